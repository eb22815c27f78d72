using StorageCloud.Common.Hashing;

namespace StorageCloud.Ring;

/// <summary>
/// A ring file kept current: <see cref="Current"/> reloads it when its modification time changes (checked at
/// most every <see cref="CheckInterval"/>). A file that fails to load is reported and the old ring stays in service.
/// </summary>
public sealed class ReloadingRing
{
    private readonly string _path;
    private readonly PathHasher _hasher;
    private readonly Action<string, Exception>? _onError;
    private readonly object _lock = new();
    private Ring _current;
    private DateTime _mtime;
    private long _nextCheck;

    /// <summary>Loads the ring now; a ring that cannot be loaded at start is an error.</summary>
    public ReloadingRing(string path, PathHasher hasher, TimeSpan? checkInterval = null, Action<string, Exception>? onError = null)
    {
        _path = path;
        _hasher = hasher;
        _onError = onError;
        CheckInterval = checkInterval ?? TimeSpan.FromSeconds(15);
        _mtime = File.GetLastWriteTimeUtc(path);
        _current = new Ring(RingFile.Read(path), hasher);
        Md5 = RingFile.FileMd5(path);
        _nextCheck = Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds;
    }

    /// <summary>How often the file's modification time is checked.</summary>
    public TimeSpan CheckInterval { get; }

    /// <summary>MD5 of the ring file in service.</summary>
    public string Md5 { get; private set; }

    /// <summary>The ring in service, reloaded first if the file changed.</summary>
    public Ring Current
    {
        get
        {
            if (Environment.TickCount64 >= Volatile.Read(ref _nextCheck)) Reload(force: false);
            return _current;
        }
    }

    /// <summary>Checks the file now; returns true if a new ring was loaded.</summary>
    public bool Reload(bool force = true)
    {
        lock (_lock)
        {
            Volatile.Write(ref _nextCheck, Environment.TickCount64 + (long)CheckInterval.TotalMilliseconds);
            DateTime mtime;
            try
            {
                mtime = File.GetLastWriteTimeUtc(_path);
            }
            catch (IOException e)
            {
                _onError?.Invoke(_path, e);
                return false;
            }
            if (!force && mtime == _mtime) return false;
            try
            {
                var ring = new Ring(RingFile.Read(_path), _hasher);
                Md5 = RingFile.FileMd5(_path);
                _mtime = mtime;
                Volatile.Write(ref _current, ring);
                return true;
            }
            catch (Exception e) when (e is RingFormatException or IOException)
            {
                // Keep serving the old ring; remember the mtime so one bad file is reported once.
                _mtime = mtime;
                _onError?.Invoke(_path, e);
                return false;
            }
        }
    }
}

using System.Globalization;
using System.Security.Cryptography;

namespace StorageCloud.Auth.Tokens;

/// <summary>
/// The token keys, one 256-bit key per file named by its index, as Keystone's fernet key repository: 0 is the
/// staged key (already accepted, next to become primary), the highest index is the primary (signs new tokens),
/// the others are secondary (still accepted). Rotation promotes the staged key, stages a new one and drops the
/// oldest secondaries beyond the maximum, so every node that has the staged key accepts tokens of the next primary.
/// </summary>
public sealed class KeyRepository
{
    private readonly string _directory;
    private readonly int _maxActiveKeys;
    private readonly Lock _lock = new();
    private (DateTime Stamp, long CheckedAt, byte[][] Keys) _loaded;

    /// <summary>Opens the repository, creating it with a staged and a primary key when empty.</summary>
    public KeyRepository(string directory, int maxActiveKeys)
    {
        if (maxActiveKeys < 2) throw new ArgumentOutOfRangeException(nameof(maxActiveKeys), "at least a staged and a primary key");
        _directory = directory;
        _maxActiveKeys = maxActiveKeys;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Indexes().Count == 0)
        {
            WriteKey(0);
            Rotate();
        }
    }

    /// <summary>The keys to try, primary first and the staged key last; the first one signs.</summary>
    public byte[][] Keys
    {
        get
        {
            var now = Environment.TickCount64;
            lock (_lock)
            {
                // Another node (or the rotate-keys command) may rotate: look at the directory at most once a second.
                if (_loaded.Keys is not null && now - _loaded.CheckedAt < 1000) return _loaded.Keys;
                var stamp = Directory.GetLastWriteTimeUtc(_directory);
                if (_loaded.Keys is null || stamp != _loaded.Stamp) _loaded = (stamp, now, Load());
                else _loaded.CheckedAt = now;
                return _loaded.Keys;
            }
        }
    }

    /// <summary>Promotes the staged key to primary, stages a new key and removes the oldest beyond the maximum; returns the new primary's index.</summary>
    public int Rotate()
    {
        lock (_lock)
        {
            var indexes = Indexes();
            var primary = indexes.Count == 0 ? 1 : indexes[^1] + 1;
            if (!indexes.Contains(0)) WriteKey(0);
            File.Move(PathOf(0), PathOf(primary));
            WriteKey(0);
            indexes = Indexes();
            // Keep the staged key, the primary and the newest secondaries.
            for (var i = 1; indexes.Count > _maxActiveKeys && i < indexes.Count - 1; )
            {
                File.Delete(PathOf(indexes[i]));
                indexes.RemoveAt(i);
            }
            _loaded = default;
            return primary;
        }
    }

    /// <summary>The indexes of the keys on disk, ascending.</summary>
    public List<int> Indexes()
    {
        var list = new List<int>();
        foreach (var file in Directory.EnumerateFiles(_directory))
        {
            if (int.TryParse(Path.GetFileName(file), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) list.Add(index);
        }
        list.Sort();
        return list;
    }

    private byte[][] Load()
    {
        var indexes = Indexes();
        if (indexes.Count == 0) throw new InvalidOperationException($"no token keys in {_directory}");
        var keys = new List<byte[]>(indexes.Count);
        for (var i = indexes.Count - 1; i >= 0; i--)
        {
            if (indexes[i] == 0) continue;
            keys.Add(ReadKey(indexes[i]));
        }
        if (indexes[0] == 0) keys.Add(ReadKey(0));
        return keys.ToArray();
    }

    private byte[] ReadKey(int index)
    {
        var key = Convert.FromBase64String(File.ReadAllText(PathOf(index)).Trim());
        if (key.Length != 32) throw new InvalidDataException($"token key {PathOf(index)} is not 256 bits");
        return key;
    }

    private void WriteKey(int index)
    {
        var temp = PathOf(index) + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            // Owner-only before the key is written, so it is never readable by others.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, PathOf(index), overwrite: true);
    }

    private string PathOf(int index) => Path.Combine(_directory, index.ToString(CultureInfo.InvariantCulture));
}

using StorageCloud.Storage.Rocks;

namespace StorageCloud.Storage.Engine;

/// <summary>
/// Group commit for a device's RocksDB write-ahead log: writers write without a sync, then wait here; one thread
/// fsyncs the log for every writer waiting, so object index entries, container rows and everything else written
/// to the device at about the same time share one sync instead of taking one each. A writer is released only
/// after a sync that began after its write, so what it acknowledges is durable.
/// </summary>
public sealed class WalSync : IDisposable
{
    private readonly RocksDb _db;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private List<TaskCompletionSource> _waiting = [];
    private bool _stopping;
    private long _syncs;

    /// <summary>Starts the syncing thread for <paramref name="db"/>.</summary>
    public WalSync(RocksDb db, string name)
    {
        _db = db;
        _thread = new Thread(Run) { IsBackground = true, Name = $"wal-sync {name}" };
        _thread.Start();
    }

    /// <summary>How many syncs have run.</summary>
    public long SyncCount => Interlocked.Read(ref _syncs);

    /// <summary>Completes once everything written to the database before the call is durable.</summary>
    public Task WaitAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(WalSync));
            _waiting.Add(done);
            if (_waiting.Count == 1) Monitor.Pulse(_gate);
        }
        return done.Task;
    }

    /// <summary>Blocks until everything written before the call is durable (for callers that are not async).</summary>
    public void Wait() => WaitAsync().GetAwaiter().GetResult();

    private void Run()
    {
        while (true)
        {
            List<TaskCompletionSource> batch;
            lock (_gate)
            {
                while (_waiting.Count == 0 && !_stopping) Monitor.Wait(_gate);
                if (_waiting.Count == 0) return;
                batch = _waiting;
                _waiting = [];
            }
            try
            {
                _db.FlushWal(sync: true);
                Interlocked.Increment(ref _syncs);
                foreach (var w in batch) w.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var w in batch) w.TrySetException(e);
            }
        }
    }

    /// <summary>Syncs what is waiting, then stops the thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join();
    }
}

using System.Collections.Concurrent;
using StorageCloud.Ring;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// Counts each storage device's errors and skips a device that failed too often, for a while (Swift's
/// error_limit). An unmounted drive (507) is limited at once.
/// </summary>
public sealed class ErrorLimiter(ObjectLayerOptions options, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed class Entry
    {
        public int Errors;
        public long LastErrorTicks;
    }

    private static string Key(RingDevice node) => node.Server + "/" + node.Device;

    /// <summary>True while the device is being skipped.</summary>
    public bool IsLimited(RingDevice node)
    {
        if (!_entries.TryGetValue(Key(node), out var e)) return false;
        var age = Now - Volatile.Read(ref e.LastErrorTicks);
        if (age > options.ErrorSuppressionInterval.Ticks)
        {
            _entries.TryRemove(Key(node), out _);
            return false;
        }
        return Volatile.Read(ref e.Errors) > options.ErrorSuppressionLimit;
    }

    /// <summary>Counts one error against the device.</summary>
    public void Error(RingDevice node)
    {
        var e = _entries.GetOrAdd(Key(node), _ => new Entry());
        Interlocked.Increment(ref e.Errors);
        Volatile.Write(ref e.LastErrorTicks, Now);
    }

    /// <summary>Skips the device at once (its drive is unmounted or it is out of space).</summary>
    public void Limit(RingDevice node)
    {
        var e = _entries.GetOrAdd(Key(node), _ => new Entry());
        Volatile.Write(ref e.Errors, options.ErrorSuppressionLimit + 1);
        Volatile.Write(ref e.LastErrorTicks, Now);
    }

    private long Now => _clock.GetUtcNow().UtcTicks;

    /// <summary>Forgets every error (tests and operators).</summary>
    public void Reset() => _entries.Clear();
}

using System.Diagnostics;

namespace StorageCloud.Common.IO;

/// <summary>
/// Keeps a background pass at or below a rate (bytes, objects: any unit) so that foreground requests keep the
/// disk and the network. Safe to share between the workers of one pass: they draw on one budget.
/// </summary>
public sealed class Pacer(double perSecond)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _used;

    /// <summary>A pacer that never waits.</summary>
    public static Pacer Unlimited { get; } = new(0);

    /// <summary>Units used so far.</summary>
    public long Used => Interlocked.Read(ref _used);

    /// <summary>Counts <paramref name="units"/> and waits until the pass is back within its rate.</summary>
    public Task WaitAsync(long units, CancellationToken cancellationToken = default)
    {
        var used = Interlocked.Add(ref _used, units);
        if (perSecond <= 0) return Task.CompletedTask;
        var ahead = TimeSpan.FromSeconds(used / perSecond) - Stopwatch.GetElapsedTime(_started);
        // Short waits are not worth a timer; the budget catches up on the next call.
        return ahead > TimeSpan.FromMilliseconds(5) ? Task.Delay(ahead, cancellationToken) : Task.CompletedTask;
    }
}

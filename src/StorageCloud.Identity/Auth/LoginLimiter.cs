using System.Collections.Concurrent;

namespace StorageCloud.Identity.Auth;

/// <summary>
/// Counts failed logins per client address over a window; past the limit that address is refused (429) until its
/// oldest counted failure leaves the window. Guards password guessing and the PBKDF2 work each attempt costs.
/// </summary>
public sealed class LoginLimiter(IdentityOptions options, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    /// <summary>Seconds the address must wait, or 0 when it may try.</summary>
    public int RetryAfterSeconds(string address)
    {
        if (options.LoginFailureLimit <= 0 || !_failures.TryGetValue(address, out var times)) return 0;
        lock (times)
        {
            Trim(times);
            if (times.Count < options.LoginFailureLimit) return 0;
            var wait = times.Peek() + options.LoginFailureWindow - _clock.GetUtcNow();
            return Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        }
    }

    /// <summary>Records a failed login from the address.</summary>
    public void Failed(string address)
    {
        if (options.LoginFailureLimit <= 0) return;
        if (_failures.Count > 100_000) _failures.Clear();
        var times = _failures.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        lock (times)
        {
            Trim(times);
            times.Enqueue(_clock.GetUtcNow());
            // Only the newest failures matter for the limit.
            while (times.Count > options.LoginFailureLimit) times.Dequeue();
        }
    }

    private void Trim(Queue<DateTimeOffset> times)
    {
        var cutoff = _clock.GetUtcNow() - options.LoginFailureWindow;
        while (times.Count > 0 && times.Peek() < cutoff) times.Dequeue();
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Dashboard.Web;

/// <summary>A logged-in user: the token (kept here, never sent to the browser), whom and what it is scoped to, its endpoints, the form token.</summary>
public sealed class Session
{
    /// <summary>The identity service's token.</summary>
    public required string Token { get; set; }

    /// <summary>The user's name and id.</summary>
    public required string UserName { get; init; }

    /// <summary>The user's id.</summary>
    public required string UserId { get; init; }

    /// <summary>The user's domain name.</summary>
    public required string Domain { get; init; }

    /// <summary>The project the token is scoped to.</summary>
    public required string ProjectId { get; set; }

    /// <summary>Its name.</summary>
    public required string ProjectName { get; set; }

    /// <summary>True when the token carries the admin role: the cluster pages are shown.</summary>
    public bool IsAdmin { get; set; }

    /// <summary>Public endpoints by service type (object-store, volumev3, compute, ...), from the token's catalog.</summary>
    public required Dictionary<string, string> Endpoints { get; set; }

    /// <summary>The token every form of this session carries.</summary>
    public string Csrf { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>When the session was last used.</summary>
    public DateTimeOffset LastUsed { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// Sessions by their random id (the cookie's value); idle ones expire. Sessions nobody comes back for are swept
/// when a new one is added (at most once per <c>sweepEvery</c>), so abandoned logins do not pile up in memory.
/// </summary>
public sealed class SessionStore(TimeSpan idle, TimeProvider? time = null, TimeSpan? sweepEvery = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly TimeSpan _sweepEvery = sweepEvery ?? TimeSpan.FromMinutes(1);
    private long _lastSweepTicks = (time ?? TimeProvider.System).GetUtcNow().UtcTicks;

    /// <summary>How many sessions are kept.</summary>
    public int Count => _sessions.Count;

    /// <summary>Keeps a session; returns its id for the cookie.</summary>
    public string Add(Session session)
    {
        SweepIfDue();
        session.LastUsed = _time.GetUtcNow();
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        _sessions[id] = session;
        return id;
    }

    private void SweepIfDue()
    {
        var now = _time.GetUtcNow();
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last < _sweepEvery.Ticks || Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) != last) return;
        foreach (var (id, session) in _sessions)
            if (now - session.LastUsed > idle) _sessions.TryRemove(id, out _);
    }

    /// <summary>The session of a cookie value, or null (unknown or idle too long).</summary>
    public Session? Find(string? id)
    {
        if (id is null || !_sessions.TryGetValue(id, out var session)) return null;
        var now = _time.GetUtcNow();
        if (now - session.LastUsed > idle)
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        session.LastUsed = now;
        return session;
    }

    /// <summary>Ends a session.</summary>
    public void Remove(string id) => _sessions.TryRemove(id, out _);

    /// <summary>Compares a form's CSRF token with the expected one in constant time.</summary>
    public static bool SameToken(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}

using System.Collections.Concurrent;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// Short-lived in-memory cache of account and container info (Swift keeps these in memcache). Writes through this
/// proxy invalidate their entries at once; changes made elsewhere are seen when the entry expires.
/// </summary>
public sealed class InfoCache(ObjectLayerOptions options)
{
    private readonly ConcurrentDictionary<string, (ResourceInfo Info, long Expires)> _entries = new(StringComparer.Ordinal);

    private static string Key(string account, string? container) => container is null ? account : account + "/" + container;

    /// <summary>A cached entry that has not expired, or null.</summary>
    public T? Get<T>(string account, string? container) where T : ResourceInfo
    {
        if (!_entries.TryGetValue(Key(account, container), out var e)) return null;
        if (Environment.TickCount64 < e.Expires) return e.Info as T;
        _entries.TryRemove(Key(account, container), out _);
        return null;
    }

    /// <summary>Remembers an answer; errors (5xx) are never cached.</summary>
    public void Set(string account, string? container, ResourceInfo info)
    {
        if (info.Status >= 500 || info.Status == 0) return;
        var ttl = !info.Exists ? options.RecheckMissing : container is null ? options.RecheckAccountExistence : options.RecheckContainerExistence;
        _entries[Key(account, container)] = (info, Environment.TickCount64 + (long)ttl.TotalMilliseconds);
    }

    /// <summary>Forgets an account's or a container's entry.</summary>
    public void Invalidate(string account, string? container = null) => _entries.TryRemove(Key(account, container), out _);
}

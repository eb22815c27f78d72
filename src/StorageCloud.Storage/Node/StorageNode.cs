using StorageCloud.Common.Hashing;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Node;

/// <summary>A storage node's devices, each with its engine, found by the name the ring gives them.</summary>
public sealed class StorageNode : IAsyncDisposable
{
    private readonly Dictionary<string, DeviceEngine> _engines;

    private StorageNode(Dictionary<string, DeviceEngine> engines, PathHasher hasher)
    {
        _engines = engines;
        Hasher = hasher;
    }

    /// <summary>The cluster's path hasher.</summary>
    public PathHasher Hasher { get; }

    /// <summary>The devices by name.</summary>
    public IReadOnlyDictionary<string, DeviceEngine> Devices => _engines;

    /// <summary>Opens an engine for every device directory.</summary>
    public static StorageNode Open(IEnumerable<string> devicePaths, PathHasher hasher, DeviceEngineOptions? options = null)
    {
        var engines = new Dictionary<string, DeviceEngine>(StringComparer.Ordinal);
        try
        {
            foreach (var path in devicePaths)
            {
                var engine = DeviceEngine.Open(path, options);
                engines[engine.Name] = engine;
            }
        }
        catch
        {
            foreach (var e in engines.Values) e.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return new StorageNode(engines, hasher);
    }

    /// <summary>The engine of a mounted device, or null (Swift answers 507 for both unknown and unmounted).</summary>
    public DeviceEngine? Mounted(string device) => _engines.TryGetValue(device, out var e) && e.IsMounted ? e : null;

    /// <summary>Closes every engine, finishing queued writes.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var engine in _engines.Values) await engine.DisposeAsync().ConfigureAwait(false);
    }
}

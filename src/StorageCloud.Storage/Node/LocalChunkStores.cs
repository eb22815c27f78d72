using StorageCloud.Storage.Chunks;

namespace StorageCloud.Storage.Node;

/// <summary>The chunk stores of this node's devices, found by the ring device (ip, object port, name) that names them.</summary>
public sealed class LocalChunkStores(StorageNode node, string ip, int port) : ILocalChunkStores
{
    /// <inheritdoc />
    public ChunkStore? Find(string deviceIp, int devicePort, string device) =>
        deviceIp == ip && devicePort == port ? node.Mounted(device)?.Chunks : null;
}

namespace StorageCloud.Common.Http;

/// <summary>
/// Servers of this very process that backend requests can reach in memory instead of over a socket. A client wraps
/// its network handler with <see cref="CreateHandler"/>; requests for any other address still go out over the network.
/// </summary>
public interface ILocalRoutes
{
    /// <summary>A handler that serves in-process routes itself and sends everything else through <paramref name="network"/>.</summary>
    HttpMessageHandler CreateHandler(HttpMessageHandler network);
}

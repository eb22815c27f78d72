using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StorageCloud.Ring;
using StorageCloud.Service.Hosting;

namespace StorageCloud.ObjectLayer;

/// <summary>Registers the cluster client and the typed object API for any service of the process; they share one.</summary>
public static class ObjectLayerServices
{
    /// <summary>
    /// The cluster client over the rings in the ring directory (requests for this process's own storage servers run in
    /// memory), and the <see cref="ObjectStore"/> over it. Missing or damaged rings stop the process (exit code 2).
    /// </summary>
    public static IServiceCollection AddObjectLayer(this IServiceCollection services, ServiceContext context)
    {
        if (services.Any(d => d.ServiceType == typeof(Cluster))) return services;
        var ringDir = context.Host.RingDir;
        Cluster cluster;
        try
        {
            var rings = ClusterRings.Load(ringDir, context.Data.Hasher, checkInterval: TimeSpan.FromSeconds(context.Host.RingCheckSeconds));
            _ = (rings.Account, rings.Container, rings.Object);
            cluster = new Cluster(rings, ObjectLayerConfig.Read(context.Configuration), context.LocalRoutes);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new ServiceStartException($"the object layer needs account, container and object rings in {ringDir}: {e.Message}", 2, e);
        }
        services.AddSingleton(cluster);
        services.TryAddSingleton<ObjectStore>();
        return services;
    }
}

using StorageCloud.Common.Configuration;
using StorageCloud.Common.Net;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;
using StorageCloud.Service.Hosting;
using StorageCloud.Storage;

namespace StorageCloud.Host;

/// <summary>
/// The all-in-one appliance builds its own rings over its devices, one zone each, so replicas land on distinct
/// devices, and keeps them in step with its ports; a node of a cluster loads the operator's rings instead.
/// </summary>
public static class AllInOneRings
{
    /// <summary>Builds (or corrects) the account, container and object rings in the ring directory.</summary>
    public static void Ensure(ServiceContext context)
    {
        var host = context.Host;
        var ip = HostAddress.Reachable(host.BindAddress).ToString();
        try
        {
            foreach (var (name, option) in (ReadOnlySpan<(string, Int32Option)>)[("account", StorageRoleService.AccountPort), ("container", StorageRoleService.ContainerPort), ("object", StorageRoleService.ObjectPort)])
            {
                var port = option.Read(context.Configuration);
                var devices = new List<RingDevice>();
                for (var i = 0; i < context.Data.Devices.Count; i++)
                    devices.Add(new RingDevice { Id = 0, Zone = i + 1, Ip = ip, Port = port, Device = Path.GetFileName(context.Data.Devices[i]), Weight = 100 });
                RingSetup.Ensure(host.RingDir, name, host.PartPower, host.Replicas, devices);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or RingBuilderException)
        {
            throw new ServiceStartException($"the proxy needs account, container and object rings in {host.RingDir}: {e.Message}", 2, e);
        }
    }
}

using System.Globalization;
using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Net;
using StorageCloud.Service.Http;

namespace StorageCloud.Service.Hosting;

/// <summary>
/// What a service learns about the process it runs in: the configuration, the host's settings, the data directory
/// and its devices, the cluster's path hasher, which services run here and on which ports, and the in-process routes
/// to this process's own storage servers.
/// </summary>
public sealed class ServiceContext(IConfiguration configuration, HostSettings host, string mode, DataLayout data, IReadOnlyList<StorageCloudService> services)
{
    /// <summary>The "all-in-one" mode's name.</summary>
    public const string AllInOneMode = "all-in-one";

    /// <summary>The layered configuration (file, environment, command line).</summary>
    public IConfiguration Configuration { get; } = configuration;

    /// <summary>The host's settings.</summary>
    public HostSettings Host { get; } = host;

    /// <summary>"all-in-one" or "serve".</summary>
    public string Mode { get; } = mode;

    /// <summary>True for `storagecloud aio`, which builds its own rings and bootstraps everything.</summary>
    public bool AllInOne => Mode == AllInOneMode;

    /// <summary>The data directory, its devices and the cluster's secrets.</summary>
    public DataLayout Data { get; } = data;

    /// <summary>The services this process runs.</summary>
    public IReadOnlyList<StorageCloudService> Services { get; } = services;

    /// <summary>This process's storage servers, reachable in memory (filled as pipelines are built).</summary>
    public InProcessRoutes LocalRoutes { get; } = new();

    /// <summary>How this process's listeners are reached from this machine, as a URL host ("127.0.0.1" for a wildcard bind).</summary>
    public string LocalHost => HostAddress.UriHostFor(Host.BindAddress);

    /// <summary>The host name clients use in catalog URLs and banners (set by the identity service; the local host by default).</summary>
    public string PublicHost { get; set; } = HostAddress.UriHostFor(host.BindAddress);

    /// <summary>True when the named service runs in this process.</summary>
    public bool Runs(string name)
    {
        foreach (var s in Services)
            if (s.Name == name) return true;
        return false;
    }

    /// <summary>The port the named service listens on (its port option, whether or not it runs here).</summary>
    public int PortOf(string name) => PortOf(ServiceNamed(name));

    /// <summary>The port a service listens on.</summary>
    public int PortOf(StorageCloudService service) => service.Port?.Read(Configuration) ?? throw new InvalidOperationException($"{service.Name} has no port");

    /// <summary>The service's base URL for clients: http://public-host:port.</summary>
    public string UrlOf(string name) => $"http://{PublicHost}:{PortOf(name).ToString(CultureInfo.InvariantCulture)}";

    private StorageCloudService ServiceNamed(string name)
    {
        foreach (var s in Services)
            if (s.Name == name) return s;
        throw new InvalidOperationException($"service {name} does not run in this process");
    }
}

/// <summary>A node's data directory as the host prepared it: its root, the device directories and the path hasher.</summary>
public sealed record DataLayout(string Root, IReadOnlyList<string> Devices, PathHasher Hasher);

using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using StorageCloud.Host.Configuration;
using StorageCloud.Identity;
using StorageCloud.Identity.Store;

namespace StorageCloud.Host;

/// <summary>
/// The identity role's start-up: the bootstrap (domain, projects, roles, admin user, catalog of the enabled
/// services), the admin password kept in the data directory, and the openrc file the OpenStack clients source.
/// </summary>
public static class IdentityRole
{
    /// <summary>The admin password: the configured one, or one generated on first start and kept (owner-only) in the data directory.</summary>
    public static string AdminPassword(StorageCloudConfig config, DataDirectory data)
    {
        if (config.Identity.AdminPassword is { } configured) return configured;
        var path = Path.Combine(data.Root, "identity", "admin-password");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        WritePrivate(path, password + "\n");
        return password;
    }

    /// <summary>The host name clients reach this node by, for catalog URLs.</summary>
    public static string PublicHost(StorageCloudConfig config) => config.Identity.PublicHost
        ?? (config.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : config.BindAddress.Equals(IPAddress.IPv6Any) ? "[::1]" : config.BindAddress.ToString());

    /// <summary>The identity endpoint (OS_AUTH_URL).</summary>
    public static string AuthUrl(StorageCloudConfig config) => $"http://{PublicHost(config)}:{config.IdentityPort.ToString(CultureInfo.InvariantCulture)}/v3";

    /// <summary>The catalog entries of the services this process runs (the all-in-one appliance runs them all).</summary>
    public static List<CatalogEntry> Catalog(StorageCloudConfig config)
    {
        var host = PublicHost(config);
        var proxy = $"http://{host}:{config.ProxyPort.ToString(CultureInfo.InvariantCulture)}";
        var entries = new List<CatalogEntry> { new("identity", "keystone", AuthUrl(config)) };
        if (config.Roles.Contains("proxy"))
        {
            entries.Add(new("object-store", "swift", proxy + "/v1/AUTH_%(project_id)s"));
            entries.Add(new("ec2", "ec2", proxy));
            entries.Add(new("s3", "s3", proxy));
        }
        if (config.Roles.Contains("image")) entries.Add(new("image", "glance", $"http://{host}:9292"));
        if (config.Roles.Contains("volume"))
        {
            entries.Add(new("volume", "cinder", $"http://{host}:8776/v3/%(project_id)s"));
            entries.Add(new("volumev3", "cinderv3", $"http://{host}:8776/v3/%(project_id)s"));
        }
        if (config.Roles.Contains("compute")) entries.Add(new("compute", "nova", $"http://{host}:8774/v2.1"));
        if (config.Roles.Contains("network")) entries.Add(new("network", "neutron", $"http://{host}:9696"));
        return entries;
    }

    /// <summary>Runs the bootstrap and writes the openrc; returns the openrc's path.</summary>
    public static async Task<string> StartAsync(IdentityStore store, StorageCloudConfig config, DataDirectory data)
    {
        var password = AdminPassword(config, data);
        await Bootstrap.RunAsync(store, config.Identity.Service, password, config.Identity.Region, Catalog(config));
        var openrc = Path.Combine(data.Root, "openrc");
        WritePrivate(openrc, $"""
            # StorageCloud admin credentials: source this file, then run openstack commands.
            export OS_AUTH_URL={AuthUrl(config)}
            export OS_USERNAME=admin
            export OS_PASSWORD={password}
            export OS_PROJECT_NAME=admin
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_IDENTITY_API_VERSION=3
            export OS_REGION_NAME={config.Identity.Region}

            """);
        return openrc;
    }

    private static void WritePrivate(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}

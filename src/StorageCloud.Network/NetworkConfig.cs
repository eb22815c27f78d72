using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Service.Sql;

namespace StorageCloud.Network;

/// <summary>The network service's settings, read and checked.</summary>
public sealed record NetworkSettings
{
    /// <summary>"sqlite" or "postgres".</summary>
    public required string Database { get; init; }

    /// <summary>The networks database.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The MTU networks report.</summary>
    public int Mtu { get; init; } = 1500;

    /// <summary>The first three bytes of the MAC addresses ports get (Neutron's base_mac).</summary>
    public string BaseMac { get; init; } = "fa:16:3e";
}

/// <summary>The "Network" section.</summary>
public static class NetworkConfig
{
    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Network");

    private static readonly SqlOptions Sql = new(Section, "networks", Path.Combine("network", "network.db"));
    private static readonly Int32Option Mtu = Section.Int32("Mtu", 1500, 68, 65535, "the MTU every network reports");
    private static readonly StringOption BaseMac = Section.String("BaseMac", "fa:16:3e", "the first three bytes of port MAC addresses (Neutron's `base_mac`)");

    /// <summary>Reads the section; the database defaults under the data directory.</summary>
    public static NetworkSettings Read(IConfiguration c, string dataDir)
    {
        var (database, connection) = Sql.Read(c, dataDir);
        var mac = BaseMac.Read(c, "fa:16:3e").ToLowerInvariant();
        if (!System.Text.RegularExpressions.Regex.IsMatch(mac, "^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$"))
            throw new ConfigurationException("Network:BaseMac", $"'{mac}' is not three hex bytes such as fa:16:3e");
        return new NetworkSettings { Database = database, ConnectionString = connection, Mtu = Mtu.Read(c), BaseMac = mac };
    }
}

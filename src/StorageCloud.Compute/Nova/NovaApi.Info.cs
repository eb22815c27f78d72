using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>The one host as Nova shows it: availability zones, hypervisors, services, and the lists this appliance has nothing in.</summary>
public sealed partial class NovaApi
{
    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow;

    /// <summary>The v2 extensions Nova still lists (frozen since microversions replaced them), as (alias, name, description).</summary>
    private static readonly (string Alias, string Name, string Description)[] Extensions =
    [
        ("OS-DCF", "DiskConfig", "Disk Management Extension."),
        ("OS-EXT-AZ", "ExtendedAvailabilityZone", "Extended Availability Zone support."),
        ("OS-EXT-IPS", "ExtendedIps", "Adds type parameter to the ip list."),
        ("OS-EXT-IPS-MAC", "ExtendedIpsMac", "Adds mac address parameter to the ip list."),
        ("OS-EXT-SRV-ATTR", "ExtendedServerAttributes", "Extended Server Attributes support."),
        ("OS-EXT-STS", "ExtendedStatus", "Extended Status support."),
        ("OS-FLV-EXT-DATA", "FlavorExtraData", "Provide additional data for flavors."),
        ("OS-SRV-USG", "ServerUsage", "Adds launched_at and terminated_at on Servers."),
        ("os-access-ips", "AccessIPs", "Access IPs support."),
        ("os-availability-zone", "AvailabilityZone", "1. Add availability_zone to the Create Server API."),
        ("os-consoles", "Consoles", "Interactive Console support."),
        ("os-flavor-access", "FlavorAccess", "Flavor access support."),
        ("os-flavor-extra-specs", "FlavorExtraSpecs", "Flavors extra specs support."),
        ("os-hosts", "Hosts", "Admin-only host administration."),
        ("os-hypervisors", "Hypervisors", "Admin-only hypervisor administration."),
        ("os-instance-actions", "InstanceActions", "View a log of actions and events taken on an instance."),
        ("os-keypairs", "Keypairs", "Keypair Support."),
        ("os-quota-class-sets", "QuotaClasses", "Quota classes management support."),
        ("os-quota-sets", "Quotas", "Quotas management support."),
        ("os-server-groups", "ServerGroups", "Server group support."),
        ("os-services", "Services", "Services support."),
        ("os-simple-tenant-usage", "SimpleTenantUsage", "Simple tenant usage extension."),
        ("os-volumes", "Volumes", "Volumes support."),
    ];

    private static JsonObject ExtensionView(string alias, string name, string description) => new()
    {
        ["alias"] = alias, ["name"] = name, ["description"] = description, ["links"] = new JsonArray(),
        ["namespace"] = "http://docs.openstack.org/compute/ext/fake_xml", ["updated"] = "2014-12-03T00:00:00Z",
    };

    private void MapInfo()
    {
        Map("GET", "/os-availability-zone", async r =>
        {
            Enforce(r, "read");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
            {
                ["availabilityZoneInfo"] = new JsonArray(new JsonObject { ["zoneName"] = "nova", ["zoneState"] = new JsonObject { ["available"] = true }, ["hosts"] = null }),
            });
        });
        Map("GET", "/os-availability-zone/detail", async r =>
        {
            Enforce(r, "admin");
            var service = new JsonObject { ["available"] = true, ["active"] = true, ["updated_at"] = Now() };
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
            {
                ["availabilityZoneInfo"] = new JsonArray(
                    new JsonObject
                    {
                        ["zoneName"] = "internal", ["zoneState"] = new JsonObject { ["available"] = true },
                        ["hosts"] = new JsonObject { [_settings.HostName] = new JsonObject { ["nova-conductor"] = service.DeepClone(), ["nova-scheduler"] = service.DeepClone() } },
                    },
                    new JsonObject
                    {
                        ["zoneName"] = "nova", ["zoneState"] = new JsonObject { ["available"] = true },
                        ["hosts"] = new JsonObject { [_settings.HostName] = new JsonObject { ["nova-compute"] = service.DeepClone() } },
                    }),
            });
        });
        MapHypervisors();
        Map("GET", "/os-services", async r =>
        {
            Enforce(r, "admin");
            var list = new JsonArray();
            var id = 1;
            var computeEnabled = await HostAcceptsServersAsync();
            foreach (var (binary, zone) in new[] { ("nova-conductor", "internal"), ("nova-scheduler", "internal"), ("nova-compute", "nova") })
            {
                var service = new JsonObject
                {
                    ["id"] = AtLeast(r, 53) ? ServiceUuid(binary) : id, ["binary"] = binary, ["host"] = _settings.HostName, ["zone"] = zone,
                    ["status"] = binary != "nova-compute" || computeEnabled ? "enabled" : "disabled", ["state"] = "up", ["updated_at"] = Now(), ["disabled_reason"] = null,
                };
                id++;
                if (AtLeast(r, 11)) service["forced_down"] = false;
                if ((r.Query("host") is { } host && host != _settings.HostName) || (r.Query("binary") is { } wanted && wanted != binary)) continue;
                list.Add(service);
            }
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["services"] = list });
        });
        Map("GET", "/extensions", async r =>
        {
            Enforce(r, "read");
            var list = new JsonArray();
            foreach (var (alias, name, description) in Extensions) list.Add(ExtensionView(alias, name, description));
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extensions"] = list });
        });
        Map("GET", "/extensions/{alias}", async r =>
        {
            Enforce(r, "read");
            foreach (var (alias, name, description) in Extensions)
                if (alias == r.Args[0])
                {
                    await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extension"] = ExtensionView(alias, name, description) });
                    return;
                }
            throw NotFound("The resource could not be found.");
        });
        Map("GET", "/os-migrations", async r =>
        {
            Enforce(r, "admin");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["migrations"] = new JsonArray() });
        });
    }

    private string ServiceUuid(string name) =>
        new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(_settings.HostName + "/" + name))).ToString("D");
}

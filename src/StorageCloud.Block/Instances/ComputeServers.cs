using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Block.Instances;

/// <summary>What an instance's local disks may add up to: its flavor's root, ephemeral and swap sizes.</summary>
public readonly record struct DiskAllowance(string ProjectId, long RootBytes, long EphemeralBytes, long SwapBytes);

/// <summary>
/// The compute service, as the block store asks it whether a server exists for the caller and what its flavor
/// allows, before it makes or grows one of that server's local disks. It asks with the caller's own token, so a
/// project can only make disks for its own servers, and no bigger than their flavors: a project cannot use instance
/// disks to store more than its compute quota gives it.
/// </summary>
public sealed class ComputeServers(string? computeUrl, HttpClient http)
{
    private const long GiB = 1L << 30, MiB = 1L << 20;

    /// <summary>True when there is a compute service to ask.</summary>
    public bool Configured => computeUrl is not null;

    /// <summary>The server's allowance, or null when the caller has no such server (or it is being deleted).</summary>
    public async Task<DiskAllowance?> AllowanceOfAsync(string instanceId, string token, CancellationToken cancellationToken)
    {
        if (computeUrl is null || !Guid.TryParse(instanceId, out var id)) return null;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{computeUrl}/v2.1/servers/{id:D}");
        request.Headers.Add("X-Auth-Token", token);
        // 2.47 and later embed the flavor's sizes in the server.
        request.Headers.Add("OpenStack-API-Version", "compute 2.79");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized) return null;
        response.EnsureSuccessStatusCode();
        var server = (JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject)?["server"] as JsonObject;
        if (server is null || server["status"]?.GetValue<string>() is "DELETED" or "SOFT_DELETED") return null;
        var flavor = server["flavor"] as JsonObject ?? [];
        return new DiskAllowance(server["tenant_id"]?.GetValue<string>() ?? "", Number(flavor, "disk") * GiB, Number(flavor, "ephemeral") * GiB,
            Number(flavor, "swap") * MiB);
    }

    private static long Number(JsonObject o, string name) =>
        o[name] is JsonValue v && (v.TryGetValue<long>(out var n) || (v.TryGetValue<string>(out var s) && long.TryParse(s, out n))) ? n : 0;
}

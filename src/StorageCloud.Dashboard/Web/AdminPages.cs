using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;
using static StorageCloud.Dashboard.Web.Charts;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// The cluster pages, for users with the admin role: the rings (partitions and weight per device), recon from every
/// storage server (replication age, async pendings, quarantined objects, disk usage per device) and dispersion
/// (sample copies found where the rings say), each drawn as charts with the numbers beside them.
/// </summary>
public sealed partial class DashboardApp
{
    private DispersionReport? _lastDispersion;
    private DateTimeOffset _lastDispersionAt;

    private async Task AdminAsync(HttpContext context, Session session, string path, bool post)
    {
        if (!session.IsAdmin)
        {
            await WritePageAsync(context, "Refused", "<p class=\"error\">The cluster pages are for administrators (the admin role).</p>", session, 403);
            return;
        }
        if (settings.RingDir is null || !Directory.Exists(settings.RingDir))
        {
            await WritePageAsync(context, "Cluster", "<p>This dashboard has no ring directory (Dashboard runs beside a node's RingDir).</p>", session);
            return;
        }
        try
        {
            await AdminPageAsync(context, session, settings.RingDir, path, post);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or RingFormatException or InvalidDataException or TaskCanceledException)
        {
            // A ring that cannot be read, a node or the proxy refusing a dispersion sample: said on the page, not a 500.
            logger.LogWarning("cluster page {Path} failed: {Message}", path, e.Message);
            await WritePageAsync(context, "Cluster", $"<p class=\"error\" role=\"alert\">{E(e.Message)}</p>{AdminNavigation}", session, 502);
        }
    }

    private async Task AdminPageAsync(HttpContext context, Session session, string ringDir, string path, bool post)
    {
        switch (path, post)
        {
            case ("/admin", false):
                await RingsPageAsync(context, session, ringDir);
                return;
            case ("/admin/recon", false):
                await ReconPageAsync(context, session, ringDir);
                return;
            case ("/admin/dispersion", false):
                await DispersionPageAsync(context, session, null);
                return;
            case ("/admin/dispersion/populate" or "/admin/dispersion/report", true):
                await RunDispersionAsync(context, session, ringDir, populate: path.EndsWith("populate", StringComparison.Ordinal));
                return;
        }
        await NotFoundAsync(context, session);
    }

    private const string AdminNavigation = "<p><a href=\"/admin\">Rings</a> · <a href=\"/admin/recon\">Recon</a> · <a href=\"/admin/dispersion\">Dispersion</a></p>";

    private static Task RingsPageAsync(HttpContext context, Session session, string ringDir)
    {
        var body = new StringBuilder(AdminNavigation);
        foreach (var file in Directory.GetFiles(ringDir, "*.ring.gz").Order(StringComparer.Ordinal))
        {
            RingData ring;
            try
            {
                ring = RingFile.Read(file);
            }
            catch (Exception e) when (e is IOException or RingFormatException or InvalidDataException)
            {
                body.Append("<p class=\"error\">").Append(E($"{Path.GetFileName(file)}: {e.Message}")).Append("</p>");
                continue;
            }
            var assigned = new long[ring.Devices.Count];
            foreach (var row in ring.Replica2Part2Dev)
                foreach (var device in row)
                    if (device < assigned.Length) assigned[device]++;
            var partitions = new List<(string, double)>();
            var weights = new List<(string, double)>();
            var table = new StringBuilder("<table><thead><tr><th>Id</th><th>Device</th><th>Server</th><th>Region/zone</th><th>Weight</th><th>Partitions</th></tr></thead><tbody>");
            foreach (var device in ring.Devices)
            {
                if (device is null) continue;
                var label = $"{device.Id} {device.Server}/{device.Device}";
                partitions.Add((label, assigned[device.Id]));
                weights.Add((label, device.Weight));
                table.Append(CultureInfo.InvariantCulture, $"<tr><td>{device.Id}</td><td>{E(device.Device)}</td><td>{E(device.Server)}</td><td>r{device.Region}z{device.Zone}</td><td>{Format(device.Weight)}</td><td>{assigned[device.Id]}</td></tr>");
            }
            var name = Path.GetFileName(file)[..^".ring.gz".Length];
            body.Append("<section><h2>").Append(E(name)).Append(" ring</h2><p>")
                .Append(CultureInfo.InvariantCulture, $"{ring.PartitionCount} partitions (power {ring.PartPower}), {Format(ring.ReplicaCount)} replicas").Append(ring.Version is { } v ? $", version {v}" : "").Append("</p>")
                .Append(Bars($"{name}: partitions per device", partitions, "partitions"))
                .Append(Bars($"{name}: weight per device", weights, ""))
                .Append(table).Append("</tbody></table></section>");
        }
        return WritePageAsync(context, "Cluster: rings", body.ToString(), session);
    }

    /// <summary>Asks every storage server of the rings for its recon state and draws it.</summary>
    private async Task ReconPageAsync(HttpContext context, Session session, string ringDir)
    {
        var servers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(ringDir, "*.ring.gz"))
            foreach (var device in RingFile.Read(file).Devices)
                if (device is not null) servers.Add($"{RingDevice.FormatIp(device.Ip)}:{device.Port}");
        var results = await Task.WhenAll(servers.Select(async server => (Server: server, Answers: await ReconOfAsync(server, context.RequestAborted))));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var age = new List<(string, double)>();
        var asyncPending = new List<(string, double)>();
        var quarantined = new List<(string, double)>();
        var disk = new List<(string, double)>();
        var unreachable = new List<string>();
        foreach (var (server, answers) in results)
        {
            if (answers is null)
            {
                unreachable.Add(server);
                continue;
            }
            if (answers["replication"]?["replication_last"] is JsonValue last && last.TryGetValue<double>(out var at)) age.Add((server, Math.Max(0, now - at)));
            asyncPending.Add((server, Number(answers["async"]?["async_pending"])));
            quarantined.Add((server, Number(answers["quarantined"]?["objects"])));
            foreach (var d in answers["diskusage"] as JsonArray ?? [])
            {
                var size = Number(d?["size"]);
                disk.Add(($"{server}/{d?["device"]}", size > 0 ? 100 * Number(d?["used"]) / size : 0));
            }
        }
        var body = new StringBuilder(AdminNavigation);
        body.Append(CultureInfo.InvariantCulture, $"<p>{servers.Count} storage servers, {servers.Count - unreachable.Count} answered.</p>");
        if (unreachable.Count > 0) body.Append("<p class=\"error\" role=\"alert\">No answer from ").Append(E(string.Join(", ", unreachable))).Append(".</p>");
        body.Append(Bars("Seconds since the last object replication pass ended", age, "s"))
            .Append(Bars("Async pendings", asyncPending, ""))
            .Append(Bars("Quarantined objects", quarantined, ""))
            .Append(Bars("Disk usage per device", disk, "%", max: 100));
        await WritePageAsync(context, "Cluster: recon", body.ToString(), session);
    }

    private static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : 0;

    /// <summary>One server's recon answers, or null when it does not answer.</summary>
    private async Task<JsonObject?> ReconOfAsync(string server, CancellationToken cancel)
    {
        var answers = new JsonObject();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            foreach (var (key, path) in new[] { ("replication", "replication/object"), ("async", "async"), ("quarantined", "quarantined"), ("diskusage", "diskusage") })
            {
                using var response = await http.GetAsync($"http://{server}/recon/{path}", timeout.Token);
                if (response.IsSuccessStatusCode) answers[key] = JsonNode.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
            }
            return answers;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }

    private Task DispersionPageAsync(HttpContext context, Session session, string? message)
    {
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder(AdminNavigation);
        if (message is not null) body.Append("<p role=\"status\">").Append(E(message)).Append("</p>");
        body.Append("<p>Sample containers and objects are kept in this project's account (containers named ").Append(E(Dispersion.ContainerPrefix)).Append("…).</p>")
            .Append("<form method=\"post\" action=\"/admin/dispersion/populate\" class=\"inline\">").Append(csrf)
            .Append("<label>Coverage (percent of partitions) <input name=\"coverage\" value=\"1\" inputmode=\"decimal\" size=\"5\"></label><button type=\"submit\">Place samples</button></form> ")
            .Append("<form method=\"post\" action=\"/admin/dispersion/report\" class=\"inline\">").Append(csrf).Append("<button type=\"submit\">Run report</button></form>");
        if (_lastDispersion is { } report)
        {
            body.Append("<h2>Report of ").Append(E(_lastDispersionAt.ToString("u", CultureInfo.InvariantCulture))).Append("</h2>")
                .Append(Bars("Copies found where the rings say", [("containers", report.Container.PercentFound), ("objects", report.Object.PercentFound)], "%", max: 100));
            foreach (var part in new[] { report.Container, report.Object })
            {
                var missing = new List<(string, double)>();
                for (var i = 0; i < part.MissingCopies.Length; i++) missing.Add((i == 0 ? "all copies found" : $"missing {i}", part.MissingCopies[i]));
                body.Append(Bars($"{part.Kind} samples by copies missing", missing, "samples"))
                    .Append("<pre>").Append(E(part.Describe())).Append("</pre>");
            }
        }
        return WritePageAsync(context, "Cluster: dispersion", body.ToString(), session);
    }

    private async Task RunDispersionAsync(HttpContext context, Session session, string ringDir, bool populate)
    {
        var form = await context.Request.ReadFormAsync();
        if (!session.Endpoints.TryGetValue("object-store", out var account) || settings.Hasher is null)
        {
            await WritePageAsync(context, "Cluster: dispersion", "<p class=\"error\">This cloud has no object store.</p>", session, 404);
            return;
        }
        var rings = ClusterRings.Load(ringDir, settings.Hasher);
        if (populate)
        {
            if (!double.TryParse(form["coverage"], NumberStyles.Float, CultureInfo.InvariantCulture, out var coverage) || coverage is <= 0 or > 100)
            {
                await WritePageAsync(context, "Cluster: dispersion", "<p class=\"error\">Coverage is a percentage above 0, at most 100.</p>", session, 400);
                return;
            }
            var (containers, objects) = await Dispersion.PopulateAsync(http, rings, account, session.Token, coverage);
            await DispersionPageAsync(context, session, $"Placed {containers} sample containers and {objects} sample objects.");
            return;
        }
        _lastDispersion = await Dispersion.ReportAsync(http, rings, account, session.Token);
        _lastDispersionAt = DateTimeOffset.UtcNow;
        await DispersionPageAsync(context, session, null);
    }
}

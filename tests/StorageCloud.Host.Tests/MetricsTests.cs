using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests;

/// <summary>
/// /metrics on every role's port of the all-in-one appliance: Prometheus's text format that Debian's promtool accepts,
/// public without credentials, and counters that move as requests, NBD I/O, commits and token checks happen.
/// </summary>
public sealed class MetricsTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private async Task<string> ScrapeAsync(int port)
    {
        using var response = await cloud.Http.GetAsync($"http://127.0.0.1:{port}/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of one sample (the line that starts with the name and exact labels), or 0 when there is none yet.</summary>
    private static double Sample(string text, string series)
    {
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal)) return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
        return 0;
    }

    [Fact]
    public async Task Every_role_serves_metrics_promtool_accepts_and_the_counters_move()
    {
        Assert.True(File.Exists("/usr/bin/promtool"), "promtool is missing: deploy/test.sh installs Debian's prometheus");
        var (token, project) = cloud.A;
        var before = await ScrapeAsync(cloud.VolumePort);

        // Requests to the volume API, a volume written and read over NBD.
        var (status, made) = await cloud.SendToAsync(cloud.VolumeUrl, HttpMethod.Post, $"/v3/{project}/volumes", token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["name"] = "metered" } });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var volume = made!["volume"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 100 && (await cloud.SendToAsync(cloud.VolumeUrl, HttpMethod.Get, $"/v3/{project}/volumes/{volume}", token)).Body!["volume"]!["status"]!.GetValue<string>() != "available"; i++)
            await Task.Delay(100);
        await using (var nbd = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), volume))
        {
            for (ulong i = 0; i < 8; i++) Assert.Equal(0u, await nbd.WriteBlockAsync(i, i * 65536, new byte[65536], fua: true));
            Assert.Equal(0u, await nbd.FlushAsync(100));
            for (ulong i = 0; i < 4; i++) await nbd.ReadBlockAsync(200 + i, i * 65536, 65536);
        }
        for (var i = 0; i < 5; i++) await cloud.SendToAsync(cloud.VolumeUrl, HttpMethod.Get, $"/v3/{project}/volumes", token);
        var (refused, _) = await cloud.SendToAsync(cloud.VolumeUrl, HttpMethod.Get, $"/v3/{project}/volumes", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, refused);

        var after = await ScrapeAsync(cloud.VolumePort);
        const string listed = "storagecloud_http_requests_total{service=\"volume\",method=\"GET\",status=\"200\"}";
        Assert.True(Sample(after, listed) >= Sample(before, listed) + 5, after);
        Assert.True(Sample(after, "storagecloud_http_requests_total{service=\"volume\",method=\"GET\",status=\"401\"}") >= 1);
        Assert.True(Sample(after, "storagecloud_http_request_duration_seconds_count{service=\"volume\",method=\"GET\"}") >= Sample(before, "storagecloud_http_request_duration_seconds_count{service=\"volume\",method=\"GET\"}") + 6);
        Assert.True(Sample(after, "storagecloud_nbd_requests_total{command=\"write\"}") >= Sample(before, "storagecloud_nbd_requests_total{command=\"write\"}") + 8);
        Assert.True(Sample(after, "storagecloud_nbd_requests_total{command=\"read\"}") >= Sample(before, "storagecloud_nbd_requests_total{command=\"read\"}") + 4);
        Assert.True(Sample(after, "storagecloud_nbd_bytes_total{command=\"write\"}") >= Sample(before, "storagecloud_nbd_bytes_total{command=\"write\"}") + 8 * 65536);
        Assert.True(Sample(after, "storagecloud_engine_fsync_duration_seconds_count") > Sample(before, "storagecloud_engine_fsync_duration_seconds_count"));
        Assert.True(Sample(after, "storagecloud_engine_group_commit_records_count") > Sample(before, "storagecloud_engine_group_commit_records_count"));
        Assert.True(Sample(after, "storagecloud_token_validations_total{result=\"valid\"}") >= Sample(before, "storagecloud_token_validations_total{result=\"valid\"}") + 6);
        Assert.True(Sample(after, "storagecloud_token_validations_total{result=\"invalid\"}") >= 1);

        // Every role answers, and promtool finds nothing wrong with what they serve.
        foreach (var port in new[] { cloud.ProxyPort, cloud.IdentityPort, cloud.VolumePort, cloud.ImagePort, cloud.NetworkPort, cloud.ComputePort })
        {
            var text = await ScrapeAsync(port);
            Assert.Contains("# TYPE storagecloud_http_requests_total counter", text);
            var check = new ProcessStartInfo("promtool", ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            using var promtool = Process.Start(check)!;
            await promtool.StandardInput.WriteAsync(text);
            promtool.StandardInput.Close();
            var problems = await promtool.StandardError.ReadToEndAsync() + await promtool.StandardOutput.ReadToEndAsync();
            await promtool.WaitForExitAsync();
            Assert.True(promtool.ExitCode == 0, $"promtool check metrics on port {port}: {problems}");
        }

        // Credentials mean the request is the API's (an S3 bucket may be called "metrics"); without, it is public.
        using var authed = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{cloud.VolumePort}/metrics");
        authed.Headers.Add("X-Auth-Token", token);
        using var answer = await cloud.Http.SendAsync(authed);
        Assert.NotEqual("text/plain; version=0.0.4; charset=utf-8", answer.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task The_grafana_dashboard_graphs_only_metrics_the_appliance_serves()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "StorageCloud.sln"))) root = root.Parent;
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(root!.FullName, "deploy", "grafana", "storagecloud-dashboard.json")))!;
        var served = await ScrapeAsync(cloud.VolumePort) + await File.ReadAllTextAsync(Path.Combine(root.FullName, "docs", "metrics.md"));
        var panels = dashboard["panels"]!.AsArray();
        Assert.NotEmpty(panels);
        foreach (var panel in panels)
            foreach (var target in panel!["targets"]!.AsArray())
                foreach (System.Text.RegularExpressions.Match name in System.Text.RegularExpressions.Regex.Matches(target!["expr"]!.GetValue<string>(), @"storagecloud_[a-z_]+"))
                {
                    var metric = System.Text.RegularExpressions.Regex.Replace(name.Value, "_(bucket|sum|count)$", "");
                    Assert.True(served.Contains("`" + metric + "`", StringComparison.Ordinal) || served.Contains("# TYPE " + metric + " ", StringComparison.Ordinal),
                        $"{panel["title"]}: {metric} is neither served nor documented");
                }
    }
}

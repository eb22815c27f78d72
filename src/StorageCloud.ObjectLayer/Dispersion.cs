using System.Diagnostics;
using System.Globalization;
using System.Net;
using StorageCloud.Common.Http;
using StorageCloud.Ring;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// Dispersion, as swift-dispersion does it: sample containers and objects placed in a chosen share of the partitions
/// through the proxy (with an account's token), then every primary of each sample asked directly (through the rings)
/// whether it holds its copy. Used by <c>storagecloud dispersion</c> and the dashboard's cluster pages.
/// </summary>
public static class Dispersion
{
    /// <summary>The container that holds the sample objects; sample containers are named with this prefix.</summary>
    public const string ObjectContainer = "dispersion_objects", ContainerPrefix = "dispersion_";

    /// <summary>Creates the sample containers and objects; returns how many of each.</summary>
    public static async Task<(int Containers, int Objects)> PopulateAsync(HttpClient http, ClusterRings rings, string storageUrl, string token, double coveragePercent)
    {
        var account = Uri.UnescapeDataString(new Uri(storageUrl).AbsolutePath.TrimEnd('/').Split('/')[^1]);
        var containerNames = Sample(rings.Container, coveragePercent, i => $"{ContainerPrefix}{i}", n => (account, n, null));
        var objectNames = Sample(rings.Object, coveragePercent, i => $"dispersion_{i}", n => (account, ObjectContainer, n));
        await PutAsync(http, token, $"{storageUrl}/{ObjectContainer}", null);
        await Parallel.ForEachAsync(containerNames, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (name, _) => await PutAsync(http, token, $"{storageUrl}/{Uri.EscapeDataString(name)}", null));
        await Parallel.ForEachAsync(objectNames, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (name, _) => await PutAsync(http, token, $"{storageUrl}/{ObjectContainer}/{Uri.EscapeDataString(name)}", name));
        return (containerNames.Count, objectNames.Count);
    }

    /// <summary>Asks every primary of every sample for its copy.</summary>
    public static async Task<DispersionReport> ReportAsync(HttpClient http, ClusterRings rings, string storageUrl, string token)
    {
        var account = Uri.UnescapeDataString(new Uri(storageUrl).AbsolutePath.TrimEnd('/').Split('/')[^1]);
        var containers = (await ListAsync(http, token, $"{storageUrl}?prefix={ContainerPrefix}")).Where(n => n != ObjectContainer).ToList();
        var objects = await ListAsync(http, token, $"{storageUrl}/{ObjectContainer}");
        var containerRing = rings.Container;
        var objectRing = rings.Object;
        return new DispersionReport(
            await CheckAsync(http, "container", containers, name => (containerRing.GetPartition(account, name), containerRing, BackendPath.For(account, name)), containerRing),
            await CheckAsync(http, "object", objects, name => (objectRing.GetPartition(account, ObjectContainer, name), objectRing, BackendPath.For(account, ObjectContainer, name)), objectRing));
    }

    // Names that each land in a partition no earlier name took, until the share of partitions is covered.
    private static List<string> Sample(Ring.Ring ring, double percent, Func<int, string> nameOf, Func<string, (string, string?, string?)> path)
    {
        var partitions = 1L << ring.PartPower;
        var wanted = (int)Math.Max(1, Math.Ceiling(partitions * percent / 100));
        var taken = new HashSet<uint>();
        var names = new List<string>(wanted);
        for (var i = 0; names.Count < wanted && i < wanted * 200; i++)
        {
            var name = nameOf(i);
            var (a, c, o) = path(name);
            if (taken.Add(ring.GetPartition(a, c, o))) names.Add(name);
        }
        return names;
    }

    private static async Task<DispersionPart> CheckAsync(HttpClient http, string kind, List<string> names,
        Func<string, (uint Partition, Ring.Ring Ring, string Path)> locate, Ring.Ring ring)
    {
        var clock = Stopwatch.StartNew();
        var missingByCount = new int[ring.MaxReplicas + 1];
        var found = 0;
        var expected = 0;
        var partitions = new HashSet<uint>();
        var results = new List<(int Found, int Expected)>();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (name, _) =>
        {
            var (partition, r, path) = locate(name);
            lock (partitions) partitions.Add(partition);
            var primaries = r.GetPrimaryNodes(partition);
            var here = 0;
            foreach (var device in primaries)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Head, new Uri($"http://{RingDevice.FormatIp(device.Ip)}:{device.Port}/{device.Device}/{partition}{path}",
                        new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
                    using var response = await http.SendAsync(request);
                    if (response.IsSuccessStatusCode) here++;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }
            lock (results) results.Add((here, primaries.Count));
        });
        foreach (var (here, of) in results)
        {
            found += here;
            expected += of;
            missingByCount[Math.Clamp(of - here, 0, missingByCount.Length - 1)]++;
        }
        return new DispersionPart(kind, names.Count, clock.Elapsed.TotalSeconds, found, expected, missingByCount,
            100.0 * partitions.Count / (1L << ring.PartPower));
    }

    private static async Task PutAsync(HttpClient http, string token, string url, string? body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent(body ?? "") };
        request.Headers.Add("X-Auth-Token", token);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"PUT {url}: {(int)response.StatusCode}");
    }

    private static async Task<List<string>> ListAsync(HttpClient http, string token, string url)
    {
        var names = new List<string>();
        var marker = "";
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{url}{(url.Contains('?') ? '&' : '?')}marker={Uri.EscapeDataString(marker)}");
            request.Headers.Add("X-Auth-Token", token);
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NotFound) return names;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {url}: {(int)response.StatusCode}");
            var page = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (page.Length == 0) return names;
            names.AddRange(page);
            marker = page[^1];
        }
    }
}

/// <summary>What <c>dispersion report</c> found for containers and for objects.</summary>
public sealed record DispersionReport(DispersionPart Container, DispersionPart Object);

/// <summary>One half of the report: samples queried, copies found of those expected, and how many samples miss 0, 1, 2... copies.</summary>
public sealed record DispersionPart(string Kind, int Queried, double Seconds, int Found, int Expected, int[] MissingCopies, double PartitionSharePercent)
{
    /// <summary>The share of copies found, in percent.</summary>
    public double PercentFound => Expected == 0 ? 100 : 100.0 * Found / Expected;

    /// <summary>The report in swift-dispersion-report's words.</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Queried {Queried} {Kind}s for dispersion reporting, {Seconds:F1}s, 0 retries\n");
        for (var missing = 0; missing < MissingCopies.Length; missing++)
            if (MissingCopies[missing] > 0 && (missing > 0 || Kind == "object"))
                text.Append(CultureInfo.InvariantCulture, $"There were {MissingCopies[missing]} partitions missing {missing} cop{(missing == 1 ? "y" : "ies")}.\n");
        text.Append(CultureInfo.InvariantCulture, $"{PercentFound:F2}% of {Kind} copies found ({Found} of {Expected})\n");
        text.Append(CultureInfo.InvariantCulture, $"Sample represents {PartitionSharePercent:F2}% of the {Kind} partition space\n");
        return text.ToString();
    }
}

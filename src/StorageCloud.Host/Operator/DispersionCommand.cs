using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Http;
using StorageCloud.Common.Net;
using StorageCloud.Host.Configuration;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Host.Operator;

/// <summary>
/// <c>storagecloud dispersion populate|report</c>, as swift-dispersion: <c>populate</c> puts sample containers and
/// objects in a chosen share of the partitions through the proxy; <c>report</c> asks every primary of each sample
/// directly (through the rings) whether it holds its copy, and reports the share of copies found.
/// </summary>
public static class DispersionCommand
{
    /// <summary>The container that holds the sample objects; sample containers are named with this prefix.</summary>
    public const string ObjectContainer = "dispersion_objects", ContainerPrefix = "dispersion_";

    /// <summary>Builds the command.</summary>
    public static Command Build(Common.Configuration.OptionCatalog catalog)
    {
        var command = new Command("dispersion", "Place sample objects across partitions (populate) and report how many of their replicas are where the rings say (report).");
        var config = new Option<string>("--config") { Description = "A node's configuration file: its Cluster secrets and RingDir (and proxy address) are used.", Required = true, Recursive = true };
        var authUrl = new Option<string?>("--auth-url") { Description = "Swift v1 auth URL (default: the config's proxy address + /auth/v1.0).", Recursive = true };
        var user = new Option<string>("--user") { Description = "account:user (default test:tester).", DefaultValueFactory = _ => "test:tester", Recursive = true };
        var key = new Option<string>("--key") { Description = "The user's key (default testing).", DefaultValueFactory = _ => "testing", Recursive = true };
        var coverage = new Option<double>("--coverage") { Description = "Percent of the partitions to place samples in (default 1).", DefaultValueFactory = _ => 1.0, Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON.", Recursive = true };
        foreach (var option in new Option[] { config, authUrl, user, key, coverage, json }) command.Options.Add(option);

        Settings Read(ParseResult result)
        {
            var configuration = HostConfiguration.Load(result.GetValue(config), new Dictionary<string, string?>(), catalog);
            var loaded = HostConfig.Read(configuration, ["proxy"]);
            if (loaded.HashPathPrefix is null || loaded.HashPathSuffix is null)
                throw new ArgumentException($"{result.GetValue(config)} sets no Cluster:HashPathPrefix and HashPathSuffix");
            var host = HostAddress.UriHostFor(loaded.BindAddress);
            var pct = result.GetValue(coverage);
            if (pct is <= 0 or > 100) throw new ArgumentException("--coverage is a percentage above 0, at most 100");
            return new Settings(ClusterRings.Load(loaded.RingDir, new PathHasher(loaded.HashPathPrefix, loaded.HashPathSuffix)),
                result.GetValue(authUrl) ?? $"http://{host}:{Proxy.ProxyService.PortOption.Read(configuration)}/auth/v1.0", result.GetValue(user)!, result.GetValue(key)!, pct);
        }

        var populate = new Command("populate", "Put sample containers and objects into --coverage percent of the partitions.");
        populate.SetAction(result => Run(async () =>
        {
            var (containers, objects) = await PopulateAsync(Read(result));
            Console.Out.WriteLine($"Created {containers} containers for dispersion reporting");
            Console.Out.WriteLine($"Created {objects} objects for dispersion reporting");
            return 0;
        }));
        var report = new Command("report", "Report the share of sample replicas found on their primaries (exit code 1 when any is missing).");
        report.SetAction(result => Run(async () =>
        {
            var settings = Read(result);
            var outcome = await ReportAsync(settings);
            if (result.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(outcome, JsonSerializerOptions.Web));
            else foreach (var part in new[] { outcome.Container, outcome.Object }) Console.Out.Write(part.Describe());
            return outcome.Container.Found == outcome.Container.Expected && outcome.Object.Found == outcome.Object.Expected ? 0 : 1;
        }));
        command.Subcommands.Add(populate);
        command.Subcommands.Add(report);
        return command;
    }

    /// <summary>What populate and report need.</summary>
    public sealed record Settings(ClusterRings Rings, string AuthUrl, string User, string Key, double CoveragePercent);

    /// <summary>Creates the sample containers and objects; returns how many of each.</summary>
    public static async Task<(int Containers, int Objects)> PopulateAsync(Settings settings)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var (storageUrl, token) = await AuthenticateAsync(http, settings);
        var account = Uri.UnescapeDataString(new Uri(storageUrl).AbsolutePath.TrimEnd('/').Split('/')[^1]);
        var containerNames = Sample(settings.Rings.Container, settings.CoveragePercent, i => $"{ContainerPrefix}{i}", n => (account, n, null));
        var objectNames = Sample(settings.Rings.Object, settings.CoveragePercent, i => $"dispersion_{i}", n => (account, ObjectContainer, n));
        await PutAsync(http, token, $"{storageUrl}/{ObjectContainer}", null);
        await Parallel.ForEachAsync(containerNames, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (name, _) => await PutAsync(http, token, $"{storageUrl}/{Uri.EscapeDataString(name)}", null));
        await Parallel.ForEachAsync(objectNames, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (name, _) => await PutAsync(http, token, $"{storageUrl}/{ObjectContainer}/{Uri.EscapeDataString(name)}", name));
        return (containerNames.Count, objectNames.Count);
    }

    /// <summary>Asks every primary of every sample for its copy.</summary>
    public static async Task<DispersionReport> ReportAsync(Settings settings)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var (storageUrl, token) = await AuthenticateAsync(http, settings);
        var account = Uri.UnescapeDataString(new Uri(storageUrl).AbsolutePath.TrimEnd('/').Split('/')[^1]);
        var containers = (await ListAsync(http, token, $"{storageUrl}?prefix={ContainerPrefix}")).Where(n => n != ObjectContainer).ToList();
        var objects = await ListAsync(http, token, $"{storageUrl}/{ObjectContainer}");
        var containerRing = settings.Rings.Container;
        var objectRing = settings.Rings.Object;
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
                    using var request = new HttpRequestMessage(HttpMethod.Head, new Uri($"http://{Ring.RingDevice.FormatIp(device.Ip)}:{device.Port}/{device.Device}/{partition}{path}",
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

    private static async Task<(string StorageUrl, string Token)> AuthenticateAsync(HttpClient http, Settings settings)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, settings.AuthUrl);
        request.Headers.Add("X-Auth-User", settings.User);
        request.Headers.Add("X-Auth-Key", settings.Key);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode || !response.Headers.TryGetValues("X-Storage-Url", out var urls) || !response.Headers.TryGetValues("X-Auth-Token", out var tokens))
            throw new InvalidOperationException($"authentication at {settings.AuthUrl} failed: {(int)response.StatusCode}");
        return (urls.First(), tokens.First());
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

    private static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or HttpRequestException or TaskCanceledException or IOException
            or Common.Configuration.ConfigurationException or Ring.RingFormatException)
        {
            Console.Error.WriteLine($"storagecloud dispersion: {e.Message}");
            return 1;
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

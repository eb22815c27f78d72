using System.CommandLine;
using System.Text.Json;
using StorageCloud.Common.Hashing;
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
        return await Dispersion.PopulateAsync(http, settings.Rings, storageUrl, token, settings.CoveragePercent);
    }

    /// <summary>Asks every primary of every sample for its copy.</summary>
    public static async Task<DispersionReport> ReportAsync(Settings settings)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var (storageUrl, token) = await AuthenticateAsync(http, settings);
        return await Dispersion.ReportAsync(http, settings.Rings, storageUrl, token);
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

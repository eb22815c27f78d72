using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Ring;
using StorageCloud.Storage.Node;

namespace StorageCloud.Host.Operator;

/// <summary>
/// <c>storagecloud recon</c>: asks every storage server in the rings for its <c>/recon</c> state, as swift-recon
/// does, and prints one line per check: <c>OK</c> with a summary, or <c>DIFF</c> with what differs and where
/// (<c>ERROR</c> for servers that did not answer). Exit code 0 only when every check is OK.
/// </summary>
public static class ReconCommand
{
    /// <summary>The checks, in the order they print.</summary>
    public static readonly string[] Checks = ["replication", "async", "quarantined", "diskusage", "md5"];

    /// <summary>Builds the command.</summary>
    public static Command Build()
    {
        var command = new Command("recon", $"Check every storage server in the rings: {string.Join(", ", Checks)} (all by default).");
        var ringDir = new Option<string>("--ring-dir") { Description = "Directory with the account, container and object rings (default /etc/storagecloud).", DefaultValueFactory = _ => "/etc/storagecloud" };
        var only = new Argument<string[]>("checks") { Arity = ArgumentArity.ZeroOrMore, Description = string.Join(", ", Checks) };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each server (default 5).", DefaultValueFactory = _ => 5 };
        command.Options.Add(ringDir);
        command.Options.Add(timeout);
        command.Arguments.Add(only);
        command.SetAction(async result =>
        {
            var chosen = result.GetValue(only) is { Length: > 0 } list ? list : Checks;
            foreach (var check in chosen)
            {
                if (Array.IndexOf(Checks, check) < 0)
                {
                    Console.Error.WriteLine($"storagecloud recon: unknown check '{check}' (known: {string.Join(", ", Checks)})");
                    return 2;
                }
            }
            List<ReconLine> lines;
            try
            {
                lines = await RunAsync(result.GetValue(ringDir)!, chosen, TimeSpan.FromSeconds(result.GetValue(timeout)));
            }
            catch (Exception e) when (e is IOException or RingFormatException)
            {
                Console.Error.WriteLine($"storagecloud recon: cannot read the rings in {result.GetValue(ringDir)}: {e.Message}");
                return 2;
            }
            foreach (var line in lines) Console.Out.WriteLine(line);
            return lines.All(l => l.Status == "OK") ? 0 : 1;
        });
        return command;
    }

    /// <summary>Runs the checks against every server of the rings in <paramref name="ringDir"/>.</summary>
    public static async Task<List<ReconLine>> RunAsync(string ringDir, IReadOnlyList<string> checks, TimeSpan timeout)
    {
        var rings = new Dictionary<string, RingData>(StringComparer.Ordinal);
        foreach (var kind in Storage.Node.Recon.ReplicatorKinds) rings[kind] = RingFile.Read(Path.Combine(ringDir, $"{kind}.ring.gz"));
        var localMd5 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(ringDir, "*.ring.gz")) localMd5[Path.GetFileName(file)] = RingFile.FileMd5(file);
        using var http = new HttpClient { Timeout = timeout };
        var lines = new List<ReconLine>();
        var objectServers = Servers(rings["object"]);
        foreach (var check in checks)
        {
            switch (check)
            {
                case "replication":
                    foreach (var kind in Storage.Node.Recon.ReplicatorKinds)
                        lines.Add(Replication(kind, await AskAllAsync(http, Servers(rings[kind]), $"/recon/replication/{kind}")));
                    break;
                case "async":
                    lines.Add(Count("async", "async pendings", await AskAllAsync(http, objectServers, "/recon/async"), "async_pending"));
                    break;
                case "quarantined":
                    lines.Add(Count("quarantined", "quarantined objects", await AskAllAsync(http, objectServers, "/recon/quarantined"), "objects"));
                    break;
                case "diskusage":
                    lines.Add(DiskUsage(await AskAllAsync(http, objectServers, "/recon/diskusage")));
                    break;
                case "md5":
                    lines.Add(Md5(localMd5, await AskAllAsync(http, objectServers, "/recon/ringmd5")));
                    break;
            }
        }
        return lines;
    }

    private static List<string> Servers(RingData ring) =>
        [.. ring.Devices.Where(d => d is not null).Select(d => $"{RingDevice.FormatIp(d!.Ip)}:{d.Port.ToString(CultureInfo.InvariantCulture)}").Distinct().Order(StringComparer.Ordinal)];

    private static async Task<List<(string Server, JsonNode? Answer)>> AskAllAsync(HttpClient http, List<string> servers, string path) =>
        [.. await Task.WhenAll(servers.Select(async server =>
        {
            try
            {
                return (server, JsonNode.Parse(await http.GetStringAsync($"http://{server}{path}")));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                return (server, (JsonNode?)null);
            }
        }))];

    private static ReconLine Unreachable(string check, List<(string Server, JsonNode? Answer)> answers) =>
        new("ERROR", check, $"{answers.Count(a => a.Answer is null)} of {answers.Count} servers did not answer: {string.Join(", ", answers.Where(a => a.Answer is null).Select(a => a.Server))}");

    private static ReconLine Replication(string kind, List<(string Server, JsonNode? Answer)> answers)
    {
        var check = $"replication/{kind}";
        if (answers.Any(a => a.Answer is null)) return Unreachable(check, answers);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var problems = new List<string>();
        double? oldest = null;
        int failures = 0, pushed = 0, reverted = 0, running = 0;
        foreach (var (server, answer) in answers)
        {
            if (answer!["replication_in_progress"] is not null) running++;
            if (answer["replication_last"]?.GetValue<double>() is not { } last)
            {
                problems.Add($"{server} has not finished a pass");
                continue;
            }
            oldest = Math.Min(oldest ?? double.MaxValue, now - last);
            var stats = answer["replication_stats"]!;
            var failed = stats["failure"]!.GetValue<int>();
            failures += failed;
            pushed += stats["pushed"]!.GetValue<int>();
            reverted += stats["reverted"]!.GetValue<int>();
            if (failed > 0) problems.Add($"{server} had {failed} failures in its last pass");
        }
        var summary = $"{answers.Count} servers; oldest pass ended {(oldest is null ? "never" : $"{Math.Max(0, oldest.Value):F0}s ago")}; " +
            $"last passes pushed {pushed}, handed back {reverted}, failed {failures}{(running > 0 ? $"; {running} passes in progress" : "")}";
        return problems.Count == 0 ? new("OK", check, summary) : new("DIFF", check, $"{summary}; {string.Join("; ", problems)}");
    }

    private static ReconLine Count(string check, string what, List<(string Server, JsonNode? Answer)> answers, string field)
    {
        if (answers.Any(a => a.Answer is null)) return Unreachable(check, answers);
        var counts = answers.Select(a => (a.Server, Count: a.Answer![field]!.GetValue<long>())).ToList();
        var total = counts.Sum(c => c.Count);
        return total == 0
            ? new("OK", check, $"0 {what} on {answers.Count} servers")
            : new("DIFF", check, $"{total} {what}: {string.Join(", ", counts.Where(c => c.Count > 0).Select(c => $"{c.Server} {c.Count}"))}");
    }

    private static ReconLine DiskUsage(List<(string Server, JsonNode? Answer)> answers)
    {
        if (answers.Any(a => a.Answer is null)) return Unreachable("diskusage", answers);
        var unmounted = new List<string>();
        var used = new List<double>();
        foreach (var (server, answer) in answers)
        {
            foreach (var device in answer!.AsArray())
            {
                if (!device!["mounted"]!.GetValue<bool>()) unmounted.Add($"{server}/{device["device"]}");
                var size = device["size"]!.GetValue<long>();
                if (size > 0) used.Add(100.0 * device["used"]!.GetValue<long>() / size);
            }
        }
        var summary = used.Count == 0 ? $"{answers.Count} servers, no devices" :
            $"{used.Count} devices on {answers.Count} servers; used lowest {used.Min():F1}%, highest {used.Max():F1}%, average {used.Average():F1}%";
        return unmounted.Count == 0 ? new("OK", "diskusage", summary) : new("DIFF", "diskusage", $"{summary}; unmounted: {string.Join(", ", unmounted)}");
    }

    private static ReconLine Md5(Dictionary<string, string> local, List<(string Server, JsonNode? Answer)> answers)
    {
        if (answers.Any(a => a.Answer is null)) return Unreachable("md5", answers);
        var differ = new List<string>();
        foreach (var (server, answer) in answers)
        {
            var theirs = answer!.AsObject().ToDictionary(kv => Path.GetFileName(kv.Key), kv => kv.Value?.GetValue<string>() ?? "", StringComparer.Ordinal);
            foreach (var (file, md5) in local)
            {
                if (!theirs.TryGetValue(file, out var other)) differ.Add($"{server} lacks {file}");
                else if (other != md5) differ.Add($"{server} {file} {other} != {md5}");
            }
        }
        var matched = answers.Count - differ.Select(d => d.Split(' ')[0]).Distinct().Count();
        var summary = $"{matched}/{answers.Count} servers match the {local.Count} local ring files";
        return differ.Count == 0 ? new("OK", "md5", summary) : new("DIFF", "md5", $"{summary}; {string.Join("; ", differ)}");
    }
}

/// <summary>One line of recon's report.</summary>
public sealed record ReconLine(string Status, string Check, string Text)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Status,-5} {Check,-22} {Text}";
}

using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace StorageCloud.LoadGen;

/// <summary>storagecloud-loadgen: load against any Swift endpoint; a table, JSON results, and comparisons of two runs.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Load generator for Swift and S3 endpoints (StorageCloud, OpenStack Swift, any S3 service).");
        var authUrl = new Option<string?>("--auth-url") { Description = "v1 auth URL, e.g. http://127.0.0.1:8080/auth/v1.0" };
        var user = new Option<string?>("--user") { Description = "account:user" };
        var key = new Option<string?>("--key") { Description = "the user's key" };
        var storageUrl = new Option<string?>("--storage-url") { Description = "storage URL (with --token instead of auth)" };
        var token = new Option<string?>("--token") { Description = "auth token (with --storage-url)" };
        var s3Endpoint = new Option<string?>("--s3-endpoint") { Description = "S3 mode: the endpoint, e.g. http://127.0.0.1:8080 (path-style, SigV4)" };
        var accessKey = new Option<string?>("--access-key") { Description = "S3 access key" };
        var secretKey = new Option<string?>("--secret-key") { Description = "S3 secret key" };
        var region = new Option<string>("--region") { Description = "S3 region for signing", DefaultValueFactory = _ => "us-east-1" };
        var listLimit = new Option<int>("--list-limit") { Description = "names per LIST", DefaultValueFactory = _ => 100 };
        var op = new Option<string>("--op") { Description = "put, get, head, delete, list or mixed", DefaultValueFactory = _ => "put" };
        var mix = new Option<string>("--mix") { Description = "for mixed: weights, e.g. put=20,get=60,head=10,delete=5,list=5", DefaultValueFactory = _ => "put=20,get=60,head=10,delete=5,list=5" };
        var size = new Option<string>("--size") { Description = "object size (64KiB), or a range min-max (4KiB-1MiB)", DefaultValueFactory = _ => "64KiB" };
        var concurrency = new Option<int>("--concurrency") { Description = "requests in flight", DefaultValueFactory = _ => 16 };
        var duration = new Option<string>("--duration") { Description = "how long, e.g. 30s or 2m", DefaultValueFactory = _ => "30s" };
        var count = new Option<long?>("--count") { Description = "run this many operations instead of a duration" };
        var prefill = new Option<int>("--prefill") { Description = "objects written first for reads", DefaultValueFactory = _ => 100 };
        var container = new Option<string>("--container") { DefaultValueFactory = _ => "loadgen" };
        var json = new Option<string?>("--json") { Description = "write the results to this file" };
        foreach (var o in new Option[] { authUrl, user, key, storageUrl, token, s3Endpoint, accessKey, secretKey, region, listLimit, op, mix, size, concurrency, duration, count, prefill, container, json })
            root.Options.Add(o);
        root.SetAction(async (parse, ct) =>
        {
            try
            {
                var (min, max) = ParseSize(parse.GetValue(size)!);
                var weights = parse.GetValue(op) == "mixed" ? ParseMix(parse.GetValue(mix)!) : new Dictionary<string, int> { [parse.GetValue(op)!] = 1 };
                var options = new WorkloadOptions
                {
                    Mix = weights, MinSize = min, MaxSize = max, Concurrency = parse.GetValue(concurrency), Duration = ParseDuration(parse.GetValue(duration)!),
                    Count = parse.GetValue(count), Prefill = parse.GetValue(prefill), Container = parse.GetValue(container)!, ListLimit = parse.GetValue(listLimit),
                };
                using LoadTarget target = parse.GetValue(s3Endpoint) is { } endpoint
                    ? new S3Target(endpoint, parse.GetValue(accessKey) ?? throw new ArgumentException("S3 mode needs --access-key"),
                        parse.GetValue(secretKey) ?? throw new ArgumentException("S3 mode needs --secret-key"), parse.GetValue(region)!, options.Concurrency)
                    : await SwiftTarget.ConnectAsync(parse.GetValue(authUrl), parse.GetValue(user), parse.GetValue(key), parse.GetValue(storageUrl), parse.GetValue(token), options.Concurrency);
                var result = await Runner.RunAsync(target, options, (done, seconds) =>
                {
                    if (done % 500 == 0) AnsiConsole.Markup($"\r[grey]{done} operations, {seconds} s[/]   ");
                }, ct);
                AnsiConsole.WriteLine();
                Print(result);
                if (parse.GetValue(json) is { } file) await File.WriteAllTextAsync(file, result.ToJson(), ct);
                // Errors are never successes: a run with more than 1% failed requests is refused, not reported.
                if (result.ErrorRate > 0.01)
                {
                    Console.Error.WriteLine($"storagecloud-loadgen: {result.Errors} of {result.Total} requests failed ({result.ErrorRate:P1}); the run is not valid");
                    return 1;
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or HttpRequestException)
            {
                Console.Error.WriteLine($"storagecloud-loadgen: {e.Message}");
                return 2;
            }
        });
        var compare = new Command("compare", "Print the ratios b/a of two result files.");
        var a = new Argument<string>("a");
        var b = new Argument<string>("b");
        compare.Arguments.Add(a);
        compare.Arguments.Add(b);
        compare.SetAction(parse =>
        {
            var ra = RunResult.FromJson(File.ReadAllText(parse.GetValue(a)!));
            var rb = RunResult.FromJson(File.ReadAllText(parse.GetValue(b)!));
            var table = new Table().AddColumns("op", "ops/s a", "ops/s b", "b/a", "p99 a (ms)", "p99 b (ms)", "b/a");
            foreach (var oa in ra.Ops)
            {
                if (rb.Ops.FirstOrDefault(o => o.Op == oa.Op) is not { } ob) continue;
                table.AddRow(oa.Op, F(oa.OpsPerSecond), F(ob.OpsPerSecond), F(ob.OpsPerSecond / oa.OpsPerSecond, "0.00"), F(oa.P99Ms), F(ob.P99Ms), F(ob.P99Ms / oa.P99Ms, "0.00"));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        root.Subcommands.Add(compare);
        return await root.Parse(args).InvokeAsync();
    }

    private static void Print(RunResult result)
    {
        var table = new Table().AddColumns("op", "count", "errors", "ops/s", "MiB/s", "p50 ms", "p90 ms", "p99 ms", "max ms");
        foreach (var o in result.Ops)
            table.AddRow(o.Op, o.Count.ToString(CultureInfo.InvariantCulture), o.Errors.ToString(CultureInfo.InvariantCulture), F(o.OpsPerSecond), F(o.MiBPerSecond, "0.00"), F(o.P50Ms, "0.00"), F(o.P90Ms, "0.00"), F(o.P99Ms, "0.00"), F(o.MaxMs, "0.00"));
        AnsiConsole.Write(table);
        foreach (var (status, n) in result.ErrorsByStatus) AnsiConsole.WriteLine($"errors with status {status}: {n}");
        foreach (var error in result.FirstErrors ?? []) AnsiConsole.WriteLine($"failed: {error}");
    }

    private static string F(double v, string format = "0.0") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>"64KiB", "1MiB", "100" or "4KiB-1MiB".</summary>
    public static (long Min, long Max) ParseSize(string text)
    {
        var dash = text.IndexOf('-');
        if (dash > 0) return (Bytes(text[..dash]), Bytes(text[(dash + 1)..]));
        var n = Bytes(text);
        return (n, n);
    }

    private static long Bytes(string text)
    {
        var units = new (string Suffix, long Factor)[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1) };
        foreach (var (suffix, factor) in units)
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return long.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * factor;
        return long.Parse(text, CultureInfo.InvariantCulture);
    }

    private static TimeSpan ParseDuration(string text)
        => text.EndsWith('m') ? TimeSpan.FromMinutes(double.Parse(text[..^1], CultureInfo.InvariantCulture))
            : TimeSpan.FromSeconds(double.Parse(text.TrimEnd('s'), CultureInfo.InvariantCulture));

    /// <summary>"put=20,get=60" → weights.</summary>
    public static Dictionary<string, int> ParseMix(string text)
        => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('='))
            .ToDictionary(kv => kv[0], kv => int.Parse(kv[1], CultureInfo.InvariantCulture));
}

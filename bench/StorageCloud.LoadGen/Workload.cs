using System.Collections.Concurrent;
using System.Diagnostics;

namespace StorageCloud.LoadGen;

/// <summary>What to run: the operation mix, object sizes, concurrency, how long, and how many objects to prefill.</summary>
public sealed record WorkloadOptions
{
    /// <summary>Operations and their weights (put, get, head, delete, list).</summary>
    public required IReadOnlyDictionary<string, int> Mix { get; init; }

    /// <summary>Smallest and largest object size; equal for a fixed size.</summary>
    public long MinSize { get; init; } = 64 * 1024;
    public long MaxSize { get; init; } = 64 * 1024;

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Run for this long (unless <see cref="Count"/> is set).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Run exactly this many operations instead of for a duration.</summary>
    public long? Count { get; init; }

    /// <summary>Objects written before the timed run, for GET, HEAD and LIST to find.</summary>
    public int Prefill { get; init; } = 100;

    /// <summary>The container used (created if missing).</summary>
    public string Container { get; init; } = "loadgen";

    /// <summary>Seed for sizes and choices, for repeatable runs.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Every operation's latency and outcome, gathered lock-free per worker.</summary>
public sealed class Recorder
{
    private readonly ConcurrentBag<(string Op, double Ms, int Status, long Bytes)> _samples = [];

    public void Add(string op, double ms, int status, long bytes) => _samples.Add((op, ms, status, bytes));

    public IReadOnlyCollection<(string Op, double Ms, int Status, long Bytes)> Samples => _samples;
}

/// <summary>Names written so far, for reads to pick from (O(1) add and pick).</summary>
internal sealed class NamePool(IEnumerable<string> initial)
{
    private readonly List<string> _names = [.. initial];

    public void Add(string name)
    {
        lock (_names) _names.Add(name);
    }

    public string Pick(Random random)
    {
        lock (_names) return _names.Count == 0 ? "missing" : _names[random.Next(_names.Count)];
    }
}

/// <summary>Runs a workload against a target and returns the results.</summary>
public static class Runner
{
    /// <summary>Prefills, then runs the mix with N workers; every non-2xx answer is an error.</summary>
    public static async Task<RunResult> RunAsync(SwiftTarget target, WorkloadOptions options, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        var container = "/" + Uri.EscapeDataString(options.Container);
        await target.SendAsync(HttpMethod.Put, container, cancellationToken: cancellationToken);
        var payload = new byte[options.MaxSize];
        new Random(options.Seed).NextBytes(payload);
        var names = new ConcurrentQueue<string>();
        var prefill = Enumerable.Range(0, options.Prefill).Select(i => $"prefill-{i:D8}").ToList();
        await Parallel.ForEachAsync(prefill, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (name, ct) =>
        {
            var (status, _) = await target.SendAsync(HttpMethod.Put, $"{container}/{name}", payload.AsMemory(0, (int)options.MinSize), ct);
            if (status is >= 200 and < 300) names.Enqueue(name);
        });
        var known = new NamePool(names);
        var recorder = new Recorder();
        long started = 0, done = 0;
        var ops = options.Mix.Where(kv => kv.Value > 0).SelectMany(kv => Enumerable.Repeat(kv.Key, kv.Value)).ToArray();
        if (ops.Length == 0) throw new ArgumentException("the operation mix is empty");
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Count is null) stop.CancelAfter(options.Duration);
        var workers = Enumerable.Range(0, options.Concurrency).Select(w => Task.Run(async () =>
        {
            var random = new Random(options.Seed * 7919 + w);
            while (!stop.IsCancellationRequested)
            {
                if (options.Count is { } count && Interlocked.Increment(ref started) > count) break;
                var op = ops[random.Next(ops.Length)];
                var size = options.MinSize == options.MaxSize ? options.MinSize : random.NextInt64(options.MinSize, options.MaxSize + 1);
                var name = op == "put" ? $"obj-{w:D3}-{Guid.NewGuid():N}" : known.Pick(random);
                var t0 = Stopwatch.GetTimestamp();
                var (status, bytes) = op switch
                {
                    "put" => await target.SendAsync(HttpMethod.Put, $"{container}/{name}", payload.AsMemory(0, (int)size)),
                    "get" => await target.SendAsync(HttpMethod.Get, $"{container}/{name}"),
                    "head" => await target.SendAsync(HttpMethod.Head, $"{container}/{name}"),
                    "delete" => await target.SendAsync(HttpMethod.Delete, $"{container}/{name}"),
                    "list" => await target.SendAsync(HttpMethod.Get, $"{container}?limit=100"),
                    _ => throw new ArgumentException($"unknown operation '{op}'"),
                };
                recorder.Add(op, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, status, op == "put" ? size : bytes);
                if (op == "put" && status is >= 200 and < 300) known.Add(name);
                progress?.Invoke(Interlocked.Increment(ref done), (long)clock.Elapsed.TotalSeconds);
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(workers);
        return RunResult.From(recorder, clock.Elapsed, options);
    }
}

using System.Globalization;
using System.Text.Json;

namespace StorageCloud.LoadGen;

/// <summary>One operation's figures.</summary>
public sealed record OpStats(string Op, long Count, long Errors, double OpsPerSecond, double MiBPerSecond, double P50Ms, double P90Ms, double P99Ms, double MaxMs);

/// <summary>A run's figures, per operation and in total, with errors by status code; saved and compared as JSON.</summary>
public sealed record RunResult(double Seconds, int Concurrency, IReadOnlyList<OpStats> Ops, IReadOnlyDictionary<string, long> ErrorsByStatus,
    IReadOnlyList<string>? FirstErrors = null)
{
    /// <summary>All operations.</summary>
    public long Total => Ops.Sum(o => o.Count);

    /// <summary>Operations that did not answer 2xx.</summary>
    public long Errors => Ops.Sum(o => o.Errors);

    /// <summary>Share of failed operations.</summary>
    public double ErrorRate => Total == 0 ? 0 : (double)Errors / Total;

    /// <summary>The figures of a run: per operation, nearest-rank percentiles of the latencies, throughput over the elapsed time.</summary>
    public static RunResult From(Recorder recorder, TimeSpan elapsed, WorkloadOptions options)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        var ops = new List<OpStats>();
        foreach (var group in recorder.Samples.GroupBy(s => s.Op).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var latencies = group.Select(s => s.Ms).Order().ToArray();
            var errors = group.LongCount(s => s.Status is < 200 or >= 300);
            var bytes = group.Where(s => s.Status is >= 200 and < 300).Sum(s => s.Bytes);
            ops.Add(new OpStats(group.Key, latencies.Length, errors, latencies.Length / seconds, bytes / 1048576.0 / seconds,
                Percentile(latencies, 50), Percentile(latencies, 90), Percentile(latencies, 99), latencies[^1]));
        }
        var byStatus = recorder.Samples.Where(s => s.Status is < 200 or >= 300).GroupBy(s => s.Status.ToString(CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.LongCount());
        return new RunResult(seconds, options.Concurrency, ops, byStatus, recorder.FirstErrors);
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];

    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true });

    public static RunResult FromJson(string json) => JsonSerializer.Deserialize<RunResult>(json) ?? throw new InvalidDataException("not a result file");
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace StorageCloud.Common.Metrics;

/// <summary>
/// The process's metrics in Prometheus's model: counters, gauges and histograms, each with up to three labels,
/// written in the text exposition format. Recording is a dictionary lookup on a value-tuple key and an interlocked
/// add: no allocation once a label combination has been seen, so hot paths (object I/O, NBD requests, commits) may
/// record every operation.
/// </summary>
public sealed class MetricsRegistry
{
    private readonly ConcurrentDictionary<string, Metric> _metrics = new(StringComparer.Ordinal);

    /// <summary>The process's registry: every role in the process records here, and every role's /metrics shows it.</summary>
    public static MetricsRegistry Default { get; } = new();

    /// <summary>A counter (declared once; a second declaration of the name returns the first).</summary>
    public Counter Counter(string name, string help, params string[] labels) => (Counter)_metrics.GetOrAdd(name, _ => new Counter(name, help, labels));

    /// <summary>A gauge.</summary>
    public Gauge Gauge(string name, string help, params string[] labels) => (Gauge)_metrics.GetOrAdd(name, _ => new Gauge(name, help, labels));

    /// <summary>A histogram with the given upper bounds (ascending; +Inf is implied).</summary>
    public Histogram Histogram(string name, string help, double[] buckets, params string[] labels) =>
        (Histogram)_metrics.GetOrAdd(name, _ => new Histogram(name, help, buckets, labels));

    /// <summary>Every metric in the text exposition format (version 0.0.4), sorted by name.</summary>
    public string Expose()
    {
        var text = new StringBuilder();
        var names = new List<string>(_metrics.Keys);
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names) _metrics[name].WriteTo(text);
        return text.ToString();
    }
}

/// <summary>A label combination: up to three values ("" for those a metric does not have).</summary>
public readonly record struct LabelValues(string A = "", string B = "", string C = "");

/// <summary>What every metric has: a name, help, label names, and its samples per label combination.</summary>
public abstract class Metric(string name, string help, string[] labels)
{
    /// <summary>Seconds buckets for request latencies: 1 ms to 10 s.</summary>
    public static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>The metric's name.</summary>
    public string Name { get; } = name;

    /// <summary>Its label names.</summary>
    protected string[] Labels { get; } = labels.Length <= 3 ? labels : throw new ArgumentException("at most three labels", nameof(labels));

    internal abstract string Type { get; }

    internal void WriteTo(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
        WriteSamples(text);
    }

    internal abstract void WriteSamples(StringBuilder text);

    /// <summary>Writes {a="x",b="y"} (with one more label when given); nothing when there are none.</summary>
    protected void WriteLabels(StringBuilder text, LabelValues values, string? extraName = null, string? extraValue = null)
    {
        if (Labels.Length == 0 && extraName is null) return;
        text.Append('{');
        var first = true;
        for (var i = 0; i < Labels.Length; i++)
        {
            if (!first) text.Append(',');
            first = false;
            text.Append(Labels[i]).Append("=\"");
            Escape(text, i switch { 0 => values.A, 1 => values.B, _ => values.C });
            text.Append('"');
        }
        if (extraName is not null)
        {
            if (!first) text.Append(',');
            text.Append(extraName).Append("=\"").Append(extraValue).Append('"');
        }
        text.Append('}');
    }

    private static void Escape(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            if (c == '\\') text.Append("\\\\");
            else if (c == '"') text.Append("\\\"");
            else if (c == '\n') text.Append("\\n");
            else text.Append(c);
        }
    }

    /// <summary>A number as the format writes it.</summary>
    protected static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A count that only goes up.</summary>
public sealed class Counter(string name, string help, string[] labels) : Metric(name, help, labels)
{
    private readonly ConcurrentDictionary<LabelValues, StrongBoxLong> _values = new();

    internal override string Type => "counter";

    /// <summary>Adds <paramref name="by"/> (not negative) to the combination's count.</summary>
    public void Add(LabelValues labels, long by = 1) => Interlocked.Add(ref _values.GetOrAdd(labels, static _ => new StrongBoxLong()).Value, by);

    /// <summary>Adds one.</summary>
    public void Inc(string a = "", string b = "", string c = "") => Add(new LabelValues(a, b, c));

    /// <summary>The current count of a combination (for tests and gauges derived from counters).</summary>
    public long Value(LabelValues labels) => _values.TryGetValue(labels, out var box) ? Interlocked.Read(ref box.Value) : 0;

    internal override void WriteSamples(StringBuilder text)
    {
        foreach (var (labels, box) in _values)
        {
            text.Append(Name);
            WriteLabels(text, labels);
            text.Append(' ').Append(Interlocked.Read(ref box.Value).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}

/// <summary>A value that goes up and down, set by whoever knows it.</summary>
public sealed class Gauge(string name, string help, string[] labels) : Metric(name, help, labels)
{
    private readonly ConcurrentDictionary<LabelValues, StrongBoxLong> _values = new();

    internal override string Type => "gauge";

    /// <summary>Sets the combination's value.</summary>
    public void Set(LabelValues labels, double value) =>
        Interlocked.Exchange(ref _values.GetOrAdd(labels, static _ => new StrongBoxLong()).Value, BitConverter.DoubleToInt64Bits(value));

    internal override void WriteSamples(StringBuilder text)
    {
        foreach (var (labels, box) in _values)
        {
            text.Append(Name);
            WriteLabels(text, labels);
            text.Append(' ').Append(Format(BitConverter.Int64BitsToDouble(Interlocked.Read(ref box.Value)))).Append('\n');
        }
    }
}

/// <summary>Observations counted into buckets by upper bound, with their sum and count.</summary>
public sealed class Histogram : Metric
{
    private readonly double[] _bounds;
    private readonly ConcurrentDictionary<LabelValues, Cells> _cells = new();

    private sealed class Cells(int buckets)
    {
        public readonly long[] Counts = new long[buckets + 1];
        public long SumBits;
        public long Count;
    }

    internal Histogram(string name, string help, double[] bounds, string[] labels) : base(name, help, labels)
    {
        for (var i = 1; i < bounds.Length; i++)
            if (bounds[i] <= bounds[i - 1]) throw new ArgumentException("bucket bounds must ascend", nameof(bounds));
        _bounds = bounds;
    }

    internal override string Type => "histogram";

    /// <summary>Records one observation.</summary>
    public void Observe(LabelValues labels, double value)
    {
        var cells = _cells.GetOrAdd(labels, _ => new Cells(_bounds.Length));
        var bucket = _bounds.Length;
        for (var i = 0; i < _bounds.Length; i++)
        {
            if (value <= _bounds[i])
            {
                bucket = i;
                break;
            }
        }
        Interlocked.Increment(ref cells.Counts[bucket]);
        Interlocked.Increment(ref cells.Count);
        long seen, added;
        do
        {
            seen = Interlocked.Read(ref cells.SumBits);
            added = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
        }
        while (Interlocked.CompareExchange(ref cells.SumBits, added, seen) != seen);
    }

    /// <summary>The number of observations of a combination.</summary>
    public long Count(LabelValues labels) => _cells.TryGetValue(labels, out var cells) ? Interlocked.Read(ref cells.Count) : 0;

    internal override void WriteSamples(StringBuilder text)
    {
        foreach (var (labels, cells) in _cells)
        {
            long cumulative = 0;
            for (var i = 0; i <= _bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref cells.Counts[i]);
                text.Append(Name).Append("_bucket");
                WriteLabels(text, labels, "le", i < _bounds.Length ? Format(_bounds[i]) : "+Inf");
                text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            text.Append(Name).Append("_sum");
            WriteLabels(text, labels);
            text.Append(' ').Append(Format(BitConverter.Int64BitsToDouble(Interlocked.Read(ref cells.SumBits)))).Append('\n');
            text.Append(Name).Append("_count");
            WriteLabels(text, labels);
            text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}

/// <summary>A long in a class, so interlocked operations reach it through a dictionary value.</summary>
internal sealed class StrongBoxLong
{
    public long Value;
}

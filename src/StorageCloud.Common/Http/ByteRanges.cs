using System.Globalization;

namespace StorageCloud.Common.Http;

/// <summary>
/// The Range header as Swift reads it: "bytes=" and a comma-separated list of "first-last", "first-" or "-suffix".
/// A header that does not parse is ignored (the whole body is sent); one that parses but where no range fits the
/// body means 416.
/// </summary>
public static class ByteRanges
{
    /// <summary>Most ranges one request may ask for, as Swift's limit.</summary>
    public const int MaxRanges = 100;

    /// <summary>
    /// The satisfiable ranges of <paramref name="header"/> for a body of <paramref name="length"/> bytes, as
    /// (first, last) inclusive pairs; null when there is no usable Range header; empty when none is satisfiable.
    /// </summary>
    public static List<(long First, long Last)>? Parse(string? header, long length)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        // White space may surround the unit, the '=' and each number ("bytes = 0 - 999"), as swob allows.
        var equals = header.IndexOf('=');
        if (equals < 0 || !header.AsSpan(0, equals).Trim().Equals("bytes", StringComparison.OrdinalIgnoreCase)) return null;
        var specs = header[(equals + 1)..].Split(',');
        if (specs.Length > MaxRanges) return null;
        var parsed = new List<(long? First, long? Last)>();
        foreach (var raw in specs)
        {
            var spec = raw.Trim();
            var dash = spec.IndexOf('-');
            if (dash < 0) return null;
            var firstText = spec[..dash].Trim();
            var lastText = spec[(dash + 1)..].Trim();
            long? first = null, last = null;
            if (firstText.Length > 0)
            {
                if (!long.TryParse(firstText, NumberStyles.None, CultureInfo.InvariantCulture, out var f)) return null;
                first = f;
            }
            if (lastText.Length > 0)
            {
                if (!long.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out var l)) return null;
                last = l;
            }
            if (first is null && last is null) return null;
            if (first is not null && last is not null && last < first) return null;
            parsed.Add((first, last));
        }
        var result = new List<(long, long)>();
        foreach (var (first, last) in parsed)
        {
            if (first is null)
            {
                // A suffix: the last N bytes.
                if (last == 0 || length == 0) continue;
                result.Add((Math.Max(0, length - last!.Value), length - 1));
            }
            else if (first < length)
            {
                result.Add((first.Value, Math.Min(last ?? long.MaxValue, length - 1)));
            }
        }
        return result;
    }
}

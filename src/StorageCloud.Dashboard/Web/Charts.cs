using System.Globalization;
using System.Text;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>Charts drawn on the server as inline SVG (no script, no style attributes: the page's CSP allows neither inline).</summary>
public static class Charts
{
    private const int Width = 480, LabelWidth = 170, ValueWidth = 120, BarHeight = 20, Gap = 6, FontSize = 14;

    /// <summary>
    /// A horizontal bar chart, one bar per label, scaled to <paramref name="max"/> (or the largest value), with the
    /// numbers written beside the bars and the whole described for screen readers.
    /// </summary>
    public static string Bars(string title, IReadOnlyList<(string Label, double Value)> bars, string unit, double? max = null)
    {
        var top = max ?? 0;
        if (max is null) foreach (var (_, value) in bars) top = Math.Max(top, value);
        if (top <= 0) top = 1;
        var height = bars.Count * (BarHeight + Gap) + Gap;
        var svg = new StringBuilder();
        svg.Append("<figure class=\"chart\"><figcaption>").Append(E(title)).Append("</figcaption>")
            .Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {Width} {Math.Max(height, BarHeight + 2 * Gap)}\" width=\"100%\" role=\"img\" aria-label=\"")
            .Append(E($"{title}: " + string.Join("; ", bars.Select(b => $"{b.Label} {Format(b.Value)} {unit}")))).Append("\">");
        var y = Gap;
        foreach (var (label, value) in bars)
        {
            var length = Math.Max(0, value) / top * (Width - LabelWidth - ValueWidth);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + BarHeight - 4}\" font-size=\"{FontSize}\">").Append(E(Shorten(label))).Append("</text>")
                .Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y}\" width=\"{length:0.#}\" height=\"{BarHeight}\" fill=\"#3b6ea5\"><title>")
                .Append(E($"{label}: {Format(value)} {unit}")).Append("</title></rect>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + length + 6:0.#}\" y=\"{y + BarHeight - 4}\" font-size=\"{FontSize}\">")
                .Append(E($"{Format(value)} {unit}".Trim())).Append("</text>");
            y += BarHeight + Gap;
        }
        if (bars.Count == 0) svg.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{BarHeight}\" font-size=\"{FontSize}\">nothing to show</text>");
        svg.Append("</svg>");
        return svg.Append("</figure>").ToString();
    }

    /// <summary>A number as people read it: whole when it is, else two decimals.</summary>
    public static string Format(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Shorten(string label) => label.Length <= 22 ? label : label[..21] + "…";
}

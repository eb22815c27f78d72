using System.Globalization;

namespace StorageCloud.Ring.Builder;

/// <summary>The verbose dispersion report: per tier, how many partitions hold 0, 1, 2... of their replicas there.</summary>
public static class TierReport
{
    /// <summary>Writes one line per tier (region, zone, server, device) with its replica histogram.</summary>
    public static void Write(RingBuilder builder, TextWriter output)
    {
        if (builder.Table is not { } table) return;
        var tiers = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        var maxReplicas = table.Length;
        var counts = new Dictionary<string, int>();
        for (var p = 0; p < builder.PartitionCount; p++)
        {
            counts.Clear();
            foreach (var row in table)
            {
                if (p >= row.Length || row[p] == RingBuilder.NoDevice) continue;
                var d = builder.Devices[row[p]]!;
                foreach (var tier in TiersOf(d)) counts[tier] = counts.GetValueOrDefault(tier) + 1;
            }
            foreach (var d in builder.LiveDevices)
            {
                foreach (var tier in TiersOf(d))
                {
                    if (!tiers.TryGetValue(tier, out var histogram)) tiers[tier] = histogram = new int[maxReplicas + 1];
                    histogram[counts.GetValueOrDefault(tier)]++;
                }
            }
        }
        output.WriteLine("Tier                                     " + string.Join(" ", Enumerable.Range(0, maxReplicas + 1).Select(i => $"{i,8}")));
        foreach (var (tier, histogram) in tiers)
        {
            // Each device contributes once per partition, so a tier shared by n devices counted n times.
            var devicesInTier = builder.LiveDevices.Count(d => TiersOf(d).Contains(tier));
            output.WriteLine($"{tier,-40} " + string.Join(" ", histogram.Select(h => (h / devicesInTier).ToString(CultureInfo.InvariantCulture).PadLeft(8))));
        }
    }

    private static string[] TiersOf(RingDevice d) =>
    [
        $"r{d.Region}",
        $"r{d.Region}z{d.Zone}",
        $"r{d.Region}z{d.Zone}-{d.Server}",
        $"r{d.Region}z{d.Zone}-{d.Server}/{d.Device}",
    ];
}

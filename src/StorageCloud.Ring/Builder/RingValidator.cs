namespace StorageCloud.Ring.Builder;

/// <summary>Checks a builder's table for what would make the ring wrong to use (swift-ring-builder validate).</summary>
public static class RingValidator
{
    /// <summary>Every problem found, one line each; empty when the ring is sound.</summary>
    public static List<string> Check(RingBuilder builder)
    {
        var problems = new List<string>();
        if (builder.Table is not { } table)
        {
            problems.Add("the builder has not been rebalanced yet");
            return problems;
        }
        var rows = builder.RowLengths();
        if (table.Length != rows.Length) problems.Add($"the table has {table.Length} replica rows; {builder.Replicas} replicas need {rows.Length} (rebalance)");
        var live = builder.LiveDevices.Count(d => d.Weight > 0);
        var unassigned = 0;
        var missing = new SortedSet<int>();
        var doubled = 0;
        for (var p = 0; p < builder.PartitionCount; p++)
        {
            var seen = new HashSet<int>();
            foreach (var row in table)
            {
                if (p >= row.Length) continue;
                var id = row[p];
                if (id == RingBuilder.NoDevice)
                {
                    unassigned++;
                    continue;
                }
                if (id >= builder.Devices.Count || builder.Devices[id] is null) missing.Add(id);
                if (!seen.Add(id) && live >= table.Length) doubled++;
            }
        }
        if (unassigned > 0) problems.Add($"{unassigned} partition replicas have no device");
        foreach (var id in missing) problems.Add($"partitions are assigned to device {id}, which is not in the ring");
        if (doubled > 0) problems.Add($"{doubled} partitions have two replicas on one device although there are enough devices");
        var parts = builder.PartsPerDevice();
        foreach (var d in builder.LiveDevices)
        {
            if (d.Weight > 0 && d.Id < parts.Length && parts[d.Id] == 0 && builder.Table is not null && !builder.DevicesChanged)
                problems.Add($"device {d.Id} has weight {d.Weight} but no partitions");
        }
        return problems;
    }
}

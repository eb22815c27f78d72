namespace StorageCloud.Ring.Builder;

/// <summary>What a rebalance did.</summary>
/// <param name="PartitionsMoved">Partitions with at least one replica on a new device.</param>
/// <param name="Balance">Largest deviation of any device from its wanted partition count, in percent.</param>
/// <param name="Dispersion">Share of partitions whose replicas are less spread than the tiers allow, in percent.</param>
/// <param name="RemovedDevices">Devices taken out of the ring.</param>
public sealed record RebalanceResult(int PartitionsMoved, double Balance, double Dispersion, int RemovedDevices);

public sealed partial class RingBuilder
{
    /// <summary>
    /// Reassigns partitions so that every device holds its weighted share and each partition's replicas are
    /// spread over the widest tiers, moving as little as possible: replicas leave only removed or zero-weight
    /// devices, partitions dispersed worse than the tiers allow, and devices above their share. A partition
    /// moves at most one replica per min_part_hours window (except off removed devices). Deterministic per seed.
    /// </summary>
    public RebalanceResult Rebalance(int? seed = null, DateTimeOffset? now = null)
    {
        var active = LiveDevices.Where(d => d.Weight > 0 && !_pendingRemoval.Contains(d.Id)).ToList();
        if (active.Count == 0) throw new RingBuilderException("no devices with a weight above 0 to place partitions on");
        var state = new RebalanceState(this, active, new Random(seed ?? Random.Shared.Next()), (now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds());
        var before = Table;

        state.UnassignFromInactiveDevices();
        state.UnassignPoorlyDispersed();
        state.GatherForBalance();
        state.AssignAll();
        // Dispersion can keep an unassigned replica off the device that needed it; a few more rounds settle it.
        for (var pass = 0; pass < 4 && state.GatherForBalance() > 0; pass++) state.AssignAll();

        Table = state.Table;
        var removed = _pendingRemoval.Count;
        CompleteRemovals();
        DevicesChanged = false;
        Version++;
        return new RebalanceResult(CountMoved(before, Table), GetBalance(), GetDispersion(), removed);
    }

    private int CountMoved(ushort[][]? before, ushort[][] after)
    {
        var moved = 0;
        for (var p = 0; p < PartitionCount; p++)
        {
            for (var r = 0; r < after.Length; r++)
            {
                if (p >= after[r].Length) continue;
                var old = before is not null && r < before.Length && p < before[r].Length ? before[r][p] : NoDevice;
                if (old != after[r][p])
                {
                    moved++;
                    break;
                }
            }
        }
        return moved;
    }

    /// <summary>Largest deviation of a device from its wanted partitions, in percent (999.99 for parts on a device that should have none).</summary>
    public double GetBalance()
    {
        if (Table is null) return 0;
        var wanted = WantedParts();
        var parts = PartsPerDevice();
        double worst = 0;
        foreach (var d in LiveDevices)
        {
            var want = wanted.GetValueOrDefault(d.Id);
            var have = d.Id < parts.Length ? parts[d.Id] : 0;
            var balance = want > 0 ? Math.Abs(have - want) * 100 / want : have > 0 ? 999.99 : 0;
            worst = Math.Max(worst, balance);
        }
        return Math.Min(worst, 999.99);
    }

    /// <summary>The partitions each weighted device should hold under the replica plan.</summary>
    public Dictionary<int, double> WantedParts()
    {
        var active = LiveDevices.Where(d => d.Weight > 0 && !_pendingRemoval.Contains(d.Id)).ToList();
        var result = new Dictionary<int, double>();
        if (active.Count == 0) return result;
        var plan = new ReplicaPlan(active, Replicas);
        foreach (var d in active) result[d.Id] = plan.DeviceShare(d.Id) * PartitionCount;
        return result;
    }

    /// <summary>Percent of partitions whose replicas sit closer together than the tiers allow.</summary>
    public double GetDispersion() => Table is null ? 0 : 100.0 * PoorlyDispersedPartitions().Count / PartitionCount;

    /// <summary>Partitions whose replicas sit closer together than the tiers allow.</summary>
    public List<int> PoorlyDispersedPartitions()
    {
        var result = new List<int>();
        var active = LiveDevices.Where(d => d.Weight > 0 && !_pendingRemoval.Contains(d.Id)).ToList();
        if (Table is null || active.Count == 0) return result;
        var plan = new ReplicaPlan(active, Replicas);
        Span<int> devices = stackalloc int[Table.Length];
        for (var p = 0; p < PartitionCount; p++)
        {
            var n = 0;
            foreach (var row in Table)
                if (p < row.Length) devices[n++] = row[p];
            if (RebalanceState.FirstViolation(plan, devices[..n], out _) >= 0) result.Add(p);
        }
        return result;
    }

    /// <summary>The mutable working state of one rebalance.</summary>
    private sealed class RebalanceState
    {
        private readonly RingBuilder _builder;
        private readonly ReplicaPlan _plan;
        private readonly Random _random;
        private readonly long _now;
        private readonly int[] _parts;
        private readonly double[] _wanted;
        private readonly bool[] _moved;
        private readonly List<RingDevice> _candidates;

        public RebalanceState(RingBuilder builder, List<RingDevice> active, Random random, long now)
        {
            _builder = builder;
            _plan = new ReplicaPlan(active, builder.Replicas);
            _random = random;
            _now = now;
            var partitions = builder.PartitionCount;
            var lengths = builder.RowLengths();
            Table = new ushort[lengths.Length][];
            for (var r = 0; r < lengths.Length; r++)
            {
                Table[r] = new ushort[lengths[r]];
                Array.Fill(Table[r], NoDevice);
                if (builder.Table is { } old && r < old.Length)
                    Array.Copy(old[r], Table[r], Math.Min(old[r].Length, lengths[r]));
            }
            _parts = new int[builder._devices.Count];
            foreach (var row in Table)
                foreach (var id in row)
                    if (id != NoDevice) _parts[id]++;
            _wanted = new double[builder._devices.Count];
            foreach (var d in active) _wanted[d.Id] = _plan.DeviceShare(d.Id) * partitions;
            _moved = new bool[partitions];
            _candidates = [.. active];
            Shuffle(_candidates);
        }

        public ushort[][] Table { get; }

        private bool Movable(int p) => !_moved[p] && _now - _builder.LastPartMoves[p] >= _builder.MinPartHours * 3600L;

        private void Unassign(int r, int p)
        {
            _parts[Table[r][p]]--;
            Table[r][p] = NoDevice;
            _moved[p] = true;
        }

        /// <summary>Replicas on removed or zero-weight devices must go, whatever min_part_hours says.</summary>
        public void UnassignFromInactiveDevices()
        {
            for (var r = 0; r < Table.Length; r++)
            {
                for (var p = 0; p < Table[r].Length; p++)
                {
                    var id = Table[r][p];
                    if (id != NoDevice && !_plan.Contains(id)) Unassign(r, p);
                }
            }
        }

        /// <summary>Takes one replica out of each movable partition whose replicas crowd one tier.</summary>
        public void UnassignPoorlyDispersed()
        {
            Span<int> devices = stackalloc int[Table.Length];
            Span<int> rows = stackalloc int[Table.Length];
            for (var p = 0; p < _moved.Length; p++)
            {
                if (!Movable(p)) continue;
                var n = 0;
                for (var r = 0; r < Table.Length; r++)
                {
                    if (p >= Table[r].Length || Table[r][p] == NoDevice) continue;
                    devices[n] = Table[r][p];
                    rows[n++] = r;
                }
                var at = FirstViolation(_plan, devices[..n], out var crowded);
                if (at < 0) continue;
                // Of the replicas in the crowded tier node, move the one on the fullest device.
                var pick = -1;
                for (var i = 0; i < n; i++)
                {
                    if (_plan.PathOf(devices[i])[at] != crowded) continue;
                    if (pick < 0 || Fill(devices[i]) > Fill(devices[pick])) pick = i;
                }
                Unassign(rows[pick], p);
            }
        }

        /// <summary>The broadest tier level where some node holds more replicas than allowed, or -1.</summary>
        public static int FirstViolation(ReplicaPlan plan, ReadOnlySpan<int> devices, out int node)
        {
            for (var level = 0; level < ReplicaPlan.Levels; level++)
            {
                for (var i = 0; i < devices.Length; i++)
                {
                    if (!plan.Contains(devices[i])) continue;
                    var candidate = plan.PathOf(devices[i])[level];
                    var count = 0;
                    foreach (var other in devices)
                        if (plan.Contains(other) && plan.PathOf(other)[level] == candidate) count++;
                    if (count > plan.MaxPerPartition(candidate))
                    {
                        node = candidate;
                        return level;
                    }
                }
            }
            node = -1;
            return -1;
        }

        private double Fill(int id) => _wanted[id] > 0 ? _parts[id] / _wanted[id] : double.MaxValue;

        /// <summary>
        /// Unassigns replicas from devices above their share: down to the ceiling of what they want, then more from
        /// the fullest while devices below their share need more than is already unassigned. Returns how many.
        /// </summary>
        public int GatherForBalance()
        {
            var byDevice = new List<(int Row, int Part)>?[_parts.Length];
            for (var r = 0; r < Table.Length; r++)
            {
                for (var p = 0; p < Table[r].Length; p++)
                {
                    var id = Table[r][p];
                    if (id != NoDevice && _parts[id] > Math.Ceiling(_wanted[id] - 1e-9)) (byDevice[id] ??= []).Add((r, p));
                }
            }
            var gathered = 0;
            foreach (var d in _candidates)
            {
                if (byDevice[d.Id] is not { } slots) continue;
                Shuffle(slots);
                var ceiling = (int)Math.Ceiling(_wanted[d.Id] - 1e-9);
                foreach (var (r, p) in slots)
                {
                    if (_parts[d.Id] <= ceiling) break;
                    if (!Movable(p)) continue;
                    Unassign(r, p);
                    gathered++;
                }
            }
            var unassigned = 0;
            foreach (var row in Table)
                foreach (var id in row)
                    if (id == NoDevice) unassigned++;
            var deficit = 0;
            foreach (var d in _candidates) deficit += Math.Max(0, (int)Math.Floor(_wanted[d.Id] + 1e-9) - _parts[d.Id]);
            while (deficit > unassigned)
            {
                var fullest = -1;
                foreach (var d in _candidates)
                {
                    if (_parts[d.Id] > _wanted[d.Id] + 1e-9 && (fullest < 0 || _parts[d.Id] - _wanted[d.Id] > _parts[fullest] - _wanted[fullest]))
                        fullest = d.Id;
                }
                if (fullest < 0 || !ShedOne(fullest)) break;
                gathered++;
                unassigned++;
            }
            return gathered;
        }

        private bool ShedOne(int id)
        {
            var start = _random.Next(_moved.Length);
            for (var i = 0; i < _moved.Length; i++)
            {
                var p = (start + i) % _moved.Length;
                if (!Movable(p)) continue;
                for (var r = 0; r < Table.Length; r++)
                {
                    if (p < Table[r].Length && Table[r][p] == id)
                    {
                        Unassign(r, p);
                        return true;
                    }
                }
            }
            return false;
        }

        /// <summary>Places every unassigned replica on the device that keeps dispersion best, then is emptiest.</summary>
        public void AssignAll()
        {
            var slots = new List<(int Row, int Part)>();
            for (var r = 0; r < Table.Length; r++)
                for (var p = 0; p < Table[r].Length; p++)
                    if (Table[r][p] == NoDevice) slots.Add((r, p));
            Shuffle(slots);
            Span<int> others = stackalloc int[Table.Length];
            foreach (var (r, p) in slots)
            {
                var n = 0;
                for (var o = 0; o < Table.Length; o++)
                    if (o != r && p < Table[o].Length && Table[o][p] != NoDevice) others[n++] = Table[o][p];
                var best = -1;
                var bestViolation = int.MaxValue;
                var bestFill = double.MaxValue;
                foreach (var d in _candidates)
                {
                    var violation = Violation(d.Id, others[..n]);
                    if (violation > bestViolation) continue;
                    var fill = (_parts[d.Id] + 1) / _wanted[d.Id];
                    if (violation < bestViolation || fill < bestFill)
                    {
                        best = d.Id;
                        bestViolation = violation;
                        bestFill = fill;
                    }
                }
                Table[r][p] = (ushort)best;
                _parts[best]++;
                _builder.LastPartMoves[p] = _now;
            }
        }

        // A bit per tier level the placement would overfill, the broadest level weighing most.
        private int Violation(int candidate, ReadOnlySpan<int> others)
        {
            var path = _plan.PathOf(candidate);
            var score = 0;
            for (var level = 0; level < ReplicaPlan.Levels; level++)
            {
                var count = 1;
                foreach (var other in others)
                    if (_plan.PathOf(other)[level] == path[level]) count++;
                if (count > _plan.MaxPerPartition(path[level])) score |= 1 << (ReplicaPlan.Levels - 1 - level);
            }
            return score;
        }

        private void Shuffle<T>(List<T> list)
        {
            for (var i = list.Count - 1; i > 0; i--)
            {
                var j = _random.Next(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }
        }
    }
}

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
    /// <paramref name="progress"/> hears each stage and the share done (0 to 1), for a progress bar.
    /// </summary>
    public RebalanceResult Rebalance(int? seed = null, DateTimeOffset? now = null, Action<string, double>? progress = null)
    {
        var active = LiveDevices.Where(d => d.Weight > 0 && !_pendingRemoval.Contains(d.Id)).ToList();
        if (active.Count == 0) throw new RingBuilderException("no devices with a weight above 0 to place partitions on");
        var state = new RebalanceState(this, active, new Random(seed ?? Random.Shared.Next()), (now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds());
        var before = Table;

        const int BalancePasses = 32;
        progress?.Invoke("unassigning", 0);
        state.UnassignFromInactiveDevices();
        state.UnassignPoorlyDispersed();
        progress?.Invoke("assigning", 0.05);
        state.AssignAll();
        // Placing one replica at a time can leave devices off their share; move replicas until they settle.
        for (var pass = 0; pass < BalancePasses; pass++)
        {
            progress?.Invoke("balancing", 0.3 + 0.7 * pass / BalancePasses);
            if (state.BalanceByMoving() == 0) break;
        }
        progress?.Invoke("done", 1);

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
        private readonly double[] _nodeParts;
        private readonly double[] _nodeWanted;
        private readonly bool[] _moved;
        private readonly bool[][] _placedNow;
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
            _placedNow = new bool[lengths.Length][];
            for (var r = 0; r < lengths.Length; r++)
            {
                Table[r] = new ushort[lengths[r]];
                _placedNow[r] = new bool[lengths[r]];
                Array.Fill(Table[r], NoDevice);
                if (builder.Table is { } old && r < old.Length)
                    Array.Copy(old[r], Table[r], Math.Min(old[r].Length, lengths[r]));
            }
            _parts = new int[builder._devices.Count];
            _wanted = new double[builder._devices.Count];
            _nodeParts = new double[_plan.NodeCount];
            _nodeWanted = new double[_plan.NodeCount];
            for (var n = 0; n < _plan.NodeCount; n++) _nodeWanted[n] = _plan.NodeShare(n) * partitions;
            foreach (var d in active) _wanted[d.Id] = _plan.DeviceShare(d.Id) * partitions;
            foreach (var row in Table)
            {
                foreach (var id in row)
                {
                    if (id == NoDevice) continue;
                    _parts[id]++;
                    if (_plan.Contains(id))
                        foreach (var node in _plan.PathOf(id)) _nodeParts[node]++;
                }
            }
            _moved = new bool[partitions];
            _candidates = [.. active];
            Shuffle(_candidates);
        }

        public ushort[][] Table { get; }

        // A replica placed during this rebalance has moved no data yet, so it may be placed again freely;
        // any other may move if its partition has not moved within min_part_hours (or in this rebalance).
        private bool Movable(int r, int p)
            => _placedNow[r][p] || (!_moved[p] && _now - _builder.LastPartMoves[p] >= _builder.MinPartHours * 3600L);

        private void Unassign(int r, int p)
        {
            var id = Table[r][p];
            _parts[id]--;
            if (_plan.Contains(id))
                foreach (var node in _plan.PathOf(id)) _nodeParts[node]--;
            Table[r][p] = NoDevice;
            if (!_placedNow[r][p]) _moved[p] = true;
        }

        private void Place(int r, int p, int id)
        {
            Table[r][p] = (ushort)id;
            _parts[id]++;
            foreach (var node in _plan.PathOf(id)) _nodeParts[node]++;
            _placedNow[r][p] = true;
            _builder.LastPartMoves[p] = _now;
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
                    if (_plan.PathOf(devices[i])[at] != crowded || !Movable(rows[i], p)) continue;
                    if (pick < 0 || Fill(devices[i]) > Fill(devices[pick])) pick = i;
                }
                if (pick >= 0) Unassign(rows[pick], p);
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

        /// <summary>Places every unassigned replica on the best device (see <see cref="Choose"/>).</summary>
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
                var n = Others(r, p, others);
                Place(r, p, Choose(others[..n], exclude: -1, requireRoom: false));
            }
        }

        private int Others(int r, int p, Span<int> others)
        {
            var n = 0;
            for (var o = 0; o < Table.Length; o++)
                if (o != r && p < Table[o].Length && Table[o][p] != NoDevice) others[n++] = Table[o][p];
            return n;
        }

        /// <summary>
        /// The device for a replica beside <paramref name="others"/>: the fewest tier overfills first, then, tier by
        /// tier from the region down, the node furthest below its wanted share. With <paramref name="requireRoom"/>,
        /// only devices that overfill nothing qualify, the emptiest first (-1 when none does).
        /// </summary>
        private int Choose(ReadOnlySpan<int> others, int exclude, bool requireRoom)
        {
            var best = -1;
            var bestViolation = int.MaxValue;
            Span<double> bestFill = stackalloc double[ReplicaPlan.Levels];
            Span<double> fill = stackalloc double[ReplicaPlan.Levels];
            foreach (var d in _candidates)
            {
                if (d.Id == exclude) continue;
                var violation = Violation(d.Id, others);
                if (violation > bestViolation) continue;
                if (requireRoom && violation != 0) continue;
                var path = _plan.PathOf(d.Id);
                for (var level = 0; level < ReplicaPlan.Levels; level++)
                {
                    // When balancing, only the device's own shortfall counts: the neediest device wins.
                    var node = requireRoom ? path[^1] : path[level];
                    fill[level] = (_nodeParts[node] + 1) / _nodeWanted[node];
                }
                if (violation < bestViolation || Less(fill, bestFill))
                {
                    best = d.Id;
                    bestViolation = violation;
                    fill.CopyTo(bestFill);
                }
            }
            return best;
        }

        private static bool Less(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
        {
            for (var i = 0; i < a.Length; i++)
            {
                if (a[i] < b[i] - 1e-12) return true;
                if (a[i] > b[i] + 1e-12) return false;
            }
            return false;
        }

        /// <summary>
        /// Moves replicas from fuller devices to emptier ones (fill = partitions / wanted) wherever that strictly
        /// narrows the gap, dispersion allows and the partition may move. Moves may chain: a device at its share can
        /// pass a replica to a needier one it alone can serve, and refill from a fuller one. Returns how many moved.
        /// </summary>
        public int BalanceByMoving()
        {
            var slotsByDevice = new List<(int Row, int Part)>?[_parts.Length];
            for (var r = 0; r < Table.Length; r++)
                for (var p = 0; p < Table[r].Length; p++)
                    (slotsByDevice[Table[r][p]] ??= []).Add((r, p));
            var moved = 0;
            Span<int> others = stackalloc int[Table.Length];
            var donors = _candidates.Where(d => slotsByDevice[d.Id] is not null).OrderByDescending(d => Fill(d.Id)).ToList();
            foreach (var donor in donors)
            {
                var slots = slotsByDevice[donor.Id]!;
                Shuffle(slots);
                foreach (var (r, p) in slots)
                {
                    if (!CouldImprove(donor.Id)) break;
                    if (!Movable(r, p)) continue;
                    var n = Others(r, p, others);
                    var target = Choose(others[..n], exclude: donor.Id, requireRoom: true);
                    if (target < 0 || !Improves(donor.Id, target)) continue;
                    Unassign(r, p);
                    Place(r, p, target);
                    moved++;
                }
            }
            return moved;
        }

        // Whether moving one replica from the donor to the target leaves them closer (the target stays emptier)
        // without taking the donor more than one partition below its share, which a later pass refills. Going no
        // further keeps devices from trading replicas back and forth, which would move data for nothing.
        private bool Improves(int donor, int target)
            => (_parts[target] + 1) / _wanted[target] < (_parts[donor] - 1) / _wanted[donor] - 1e-12
               && _parts[donor] - 1 >= Math.Floor(_wanted[donor] + 1e-9) - 1;

        private bool CouldImprove(int donor)
        {
            foreach (var d in _candidates)
                if (d.Id != donor && Improves(donor, d.Id)) return true;
            return false;
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

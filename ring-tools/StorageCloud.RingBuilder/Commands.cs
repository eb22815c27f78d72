using System.Globalization;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;

namespace StorageCloud.RingTools;

/// <summary>The verbs. Each loads the builder, checks all its input, and saves only when everything succeeded.</summary>
internal sealed class Commands(string builderPath, TextWriter output)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public string RingPath => (builderPath.EndsWith(".builder", StringComparison.Ordinal) ? builderPath[..^".builder".Length] : builderPath) + ".ring.gz";

    public int Run(string? verb, string[] args)
    {
        var yes = args.Contains("--yes") || args.Contains("-y");
        args = args.Where(a => a is not ("--yes" or "-y")).ToArray();
        switch (verb)
        {
            case null:
                return Summary();
            case "create":
                return Create(args);
            case "add":
                return Add(args);
            case "remove":
                return Change(args, 1, yes, (b, d, _) => b.RemoveDevice(d.Id), "marked for removal");
            case "set_weight":
                return Change(args, 2, yes, (b, d, a) => b.SetWeight(d.Id, ParseDouble(a[0], "weight")), "weight set");
            case "set_info":
                return Change(args, 2, yes, (b, d, a) => b.SetInfo(d.Id, dev => DeviceSpec.ApplyChange(dev, a[0])), "info set");
            case "set_min_part_hours":
                return Mutate(args, 1, b => b.SetMinPartHours(ParseInt(args[0], "min_part_hours")),
                    $"The minimum number of hours before a partition can be reassigned is now set to {args.FirstOrDefault()}");
            case "set_replicas":
                return Mutate(args, 1, b => b.SetReplicas(ParseDouble(args[0], "replicas")),
                    $"The replica count is now {args.FirstOrDefault()}. The change will take effect after the next rebalance.");
            case "pretend_min_part_hours_passed":
                return Mutate(args, 0, b => b.PretendMinPartHoursPassed(), "");
            case "rebalance":
                return Rebalance(args);
            case "validate":
                return Validate();
            case "search":
                return Search(args);
            case "list_parts":
                return ListParts(args);
            case "dispersion":
                return Dispersion(args.Contains("--verbose") || args.Contains("-v"));
            case "write_ring":
                return WriteRing();
            default:
                throw new RingBuilderException($"unknown verb '{verb}' (run with --help for the list)");
        }
    }

    private RingBuilder Load() => BuilderFile.Load(builderPath);

    private int Create(string[] args)
    {
        if (args.Length != 3) throw new RingBuilderException("usage: create <part_power> <replicas> <min_part_hours>");
        var builder = new RingBuilder(ParseInt(args[0], "part_power"), ParseDouble(args[1], "replicas"), ParseInt(args[2], "min_part_hours"));
        BuilderFile.Save(builder, builderPath);
        return 0;
    }

    private int Add(string[] args)
    {
        var builder = Load();
        var added = new List<RingDevice>();
        if (args.Length > 0 && args[0].StartsWith("--", StringComparison.Ordinal))
        {
            added.Add(builder.AddDevice(FromOptions(args)));
        }
        else
        {
            if (args.Length == 0 || args.Length % 2 != 0) throw new RingBuilderException("usage: add <value> <weight> [<value> <weight> ...]");
            for (var i = 0; i < args.Length; i += 2)
                added.Add(builder.AddDevice(DeviceSpec.ParseAdd(args[i], ParseDouble(args[i + 1], "weight"))));
        }
        BuilderFile.Save(builder, builderPath);
        foreach (var d in added)
            output.WriteLine($"Device {Describe(d)} with {d.Weight.ToString("0.00", Invariant)} weight got id {d.Id}");
        return 0;
    }

    private static RingDevice FromOptions(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i] switch
            {
                "--region" or "-r" => "region", "--zone" or "-z" => "zone", "--ip" or "-i" => "ip", "--port" or "-p" => "port",
                "--replication-ip" or "-I" => "rip", "--replication-port" or "-P" => "rport", "--device" or "-d" => "device",
                "--weight" or "-w" => "weight", "--meta" or "-m" => "meta",
                _ => throw new RingBuilderException($"unknown option '{args[i]}'"),
            };
            if (i + 1 >= args.Length) throw new RingBuilderException($"option '{args[i]}' needs a value");
            values[name] = args[++i];
        }
        foreach (var required in new[] { "zone", "ip", "port", "device", "weight" })
            if (!values.ContainsKey(required)) throw new RingBuilderException($"add needs --{required}");
        var ip = values["ip"].Trim('[', ']');
        if (!System.Net.IPAddress.TryParse(ip, out _) && Uri.CheckHostName(ip) == UriHostNameType.Unknown)
            throw new RingBuilderException($"'{values["ip"]}' is not an address");
        return new RingDevice
        {
            Id = -1,
            Region = values.TryGetValue("region", out var r) ? ParseInt(r, "region") : 1,
            Zone = ParseInt(values["zone"], "zone"),
            Ip = ip,
            Port = ParseInt(values["port"], "port"),
            ReplicationIp = values.GetValueOrDefault("rip")?.Trim('[', ']'),
            ReplicationPort = values.TryGetValue("rport", out var rp) ? ParseInt(rp, "replication port") : null,
            Device = values["device"],
            Weight = ParseDouble(values["weight"], "weight"),
            Meta = values.GetValueOrDefault("meta") ?? "",
        };
    }

    private int Change(string[] args, int arity, bool yes, Action<RingBuilder, RingDevice, string[]> apply, string done)
    {
        if (args.Length == 0 || args.Length % arity != 0) throw new RingBuilderException($"expected {(arity == 1 ? "<search-value> [...]" : "<search-value> <value> [...]")}");
        var builder = Load();
        var changed = new List<RingDevice>();
        for (var i = 0; i < args.Length; i += arity)
        {
            var matches = Match(builder, args[i]);
            if (matches.Count > 1 && !yes)
                throw new RingBuilderException($"'{args[i]}' matches {matches.Count} devices; add --yes to change them all");
            foreach (var d in matches)
            {
                apply(builder, d, args[(i + 1)..(i + arity)]);
                changed.Add(builder.Get(d.Id));
            }
        }
        BuilderFile.Save(builder, builderPath);
        foreach (var d in changed) output.WriteLine($"Device {Describe(d)}: {done}");
        return 0;
    }

    private int Mutate(string[] args, int arity, Action<RingBuilder> apply, string message)
    {
        if (args.Length != arity) throw new RingBuilderException($"expected {arity} argument(s)");
        var builder = Load();
        apply(builder);
        BuilderFile.Save(builder, builderPath);
        if (message.Length > 0) output.WriteLine(message);
        return 0;
    }

    private static List<RingDevice> Match(RingBuilder builder, string search)
    {
        var predicate = DeviceSpec.ParseSearch(search);
        var matches = builder.LiveDevices.Where(predicate).ToList();
        if (matches.Count == 0) throw new RingBuilderException($"no device matches '{search}'");
        return matches;
    }

    private int Rebalance(string[] args)
    {
        int? seed = null;
        var force = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--seed" or "-s" && i + 1 < args.Length) seed = ParseInt(args[++i], "seed");
            else if (args[i] is "--force" or "-f") force = true;
            else throw new RingBuilderException($"unknown rebalance argument '{args[i]}'");
        }
        var builder = Load();
        var result = builder.Rebalance(seed, progress: RebalanceProgress());
        if (result.PartitionsMoved == 0 && !force)
        {
            // As swift-ring-builder: a warning (exit 1), and nothing written.
            output.WriteLine($"No partitions could be reassigned. Either none need to be or none can be due to min_part_hours [{builder.MinPartHours}].");
            return 1;
        }
        var ring = builder.ToRingData();
        BuilderFile.Save(builder, builderPath);
        RingFile.Write(ring, RingPath);
        output.WriteLine(string.Create(Invariant,
            $"Reassigned {result.PartitionsMoved} ({100.0 * result.PartitionsMoved / builder.PartitionCount:F2}%) partitions. Balance is now {result.Balance:F2}.  Dispersion is now {result.Dispersion:F2}"));
        if (result.RemovedDevices > 0) output.WriteLine($"{result.RemovedDevices} device(s) removed from the ring.");
        return 0;
    }

    /// <summary>
    /// A progress bar on the terminal while a rebalance runs (large rings take a while); nothing when stderr is not a
    /// terminal, so scripts and swift-ring-builder-compatible output stay as they were.
    /// </summary>
    private static Action<string, double>? RebalanceProgress()
    {
        if (Console.IsErrorRedirected) return null;
        return (stage, done) =>
        {
            var filled = (int)Math.Round(done * 30);
            Console.Error.Write(string.Create(Invariant, $"\rrebalance [{new string('#', filled)}{new string('.', 30 - filled)}] {done,4:P0} {stage,-12}"));
            if (done >= 1) Console.Error.Write("\r" + new string(' ', 60) + "\r");
        };
    }

    private int Validate()
    {
        var builder = Load();
        var problems = RingValidator.Check(builder);
        foreach (var p in problems) output.WriteLine(p);
        if (problems.Count > 0) throw new RingBuilderException($"{problems.Count} problem(s) found");
        output.WriteLine("Ring is valid.");
        return 0;
    }

    private int Search(string[] args)
    {
        if (args.Length != 1) throw new RingBuilderException("usage: search <search-value>");
        var builder = Load();
        var parts = builder.PartsPerDevice();
        output.WriteLine("Devices:   id region zone  ip address:port  replication ip:port  name weight partitions");
        foreach (var d in Match(builder, args[0])) output.WriteLine(DeviceLine(d, parts, null));
        return 0;
    }

    private int ListParts(string[] args)
    {
        if (args.Length == 0) throw new RingBuilderException("usage: list_parts <search-value> [...]");
        var builder = Load();
        if (builder.Table is null) throw new RingBuilderException("the builder has not been rebalanced yet");
        var ids = args.SelectMany(a => Match(builder, a)).Select(d => d.Id).ToHashSet();
        var counts = new SortedDictionary<int, int>();
        foreach (var row in builder.Table)
            for (var p = 0; p < row.Length; p++)
                if (ids.Contains(row[p])) counts[p] = counts.GetValueOrDefault(p) + 1;
        output.WriteLine("Partition   Matches");
        foreach (var (part, matches) in counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key))
            output.WriteLine($"{part,9}   {matches,7}");
        return 0;
    }

    private int Dispersion(bool verbose)
    {
        var builder = Load();
        if (builder.Table is null) throw new RingBuilderException("the builder has not been rebalanced yet");
        var poor = builder.PoorlyDispersedPartitions();
        output.WriteLine(string.Create(Invariant, $"Dispersion is {builder.GetDispersion():F2}, Balance is {builder.GetBalance():F2}, Overload is 0.00%"));
        output.WriteLine($"{poor.Count} of {builder.PartitionCount} partitions have replicas closer together than the tiers allow.");
        if (verbose) TierReport.Write(builder, output);
        return 0;
    }

    private int WriteRing()
    {
        var builder = Load();
        var md5 = RingFile.Write(builder.ToRingData(), RingPath);
        output.WriteLine($"Wrote {RingPath} (md5 {md5})");
        return 0;
    }

    private int Summary()
    {
        var builder = Load();
        var live = builder.LiveDevices.ToList();
        var parts = builder.PartsPerDevice();
        var wanted = builder.WantedParts();
        output.WriteLine($"{builderPath}, build version {builder.Version}");
        output.WriteLine(string.Create(Invariant,
            $"{builder.PartitionCount} partitions, {builder.Replicas:F6} replicas, {live.Select(d => d.Region).Distinct().Count()} regions, " +
            $"{live.Select(d => (d.Region, d.Zone)).Distinct().Count()} zones, {live.Count} devices, {builder.GetBalance():F2} balance, {builder.GetDispersion():F2} dispersion"));
        output.WriteLine($"The minimum number of hours before a partition can be reassigned is {builder.MinPartHours}");
        output.WriteLine("The overload factor is 0.00% (0.000000)");
        output.WriteLine(RingStatus(builder));
        output.WriteLine("Devices:   id region zone  ip address:port  replication ip:port  name weight partitions balance flags meta");
        foreach (var d in live) output.WriteLine(DeviceLine(d, parts, wanted) + (builder.PendingRemoval.Contains(d.Id) ? "  DEL" : ""));
        return 0;
    }

    private string RingStatus(RingBuilder builder)
    {
        var name = Path.GetFileName(RingPath);
        if (!File.Exists(RingPath)) return $"Ring file {name} not found, probably it hasn't been written yet";
        try
        {
            var ring = RingFile.Read(RingPath);
            return ring.Version == builder.Version && !builder.DevicesChanged
                ? $"Ring file {name} is up-to-date"
                : $"Ring file {name} is obsolete";
        }
        catch (RingFormatException e)
        {
            return $"Ring file {name} is invalid: {e.Message}";
        }
    }

    private static string DeviceLine(RingDevice d, int[] parts, Dictionary<int, double>? wanted)
    {
        var have = d.Id < parts.Length ? parts[d.Id] : 0;
        var line = string.Create(Invariant,
            $"{d.Id,15} {d.Region,6} {d.Zone,4} {RingDevice.FormatIp(d.Ip) + ":" + d.Port,16} {RingDevice.FormatIp(d.EffectiveReplicationIp) + ":" + d.EffectiveReplicationPort,20} {d.Device,5} {d.Weight,6:F2} {have,10}");
        if (wanted is null) return line;
        var want = wanted.GetValueOrDefault(d.Id);
        var balance = want > 0 ? (have - want) * 100 / want : have > 0 ? 999.99 : 0;
        return line + string.Create(Invariant, $" {balance,7:F2}       {d.Meta}");
    }

    private static string Describe(RingDevice d) => d.ToString();

    private static int ParseInt(string value, string name)
        => int.TryParse(value, NumberStyles.Integer, Invariant, out var n) ? n : throw new RingBuilderException($"{name} must be a whole number (got '{value}')");

    private static double ParseDouble(string value, string name)
        => double.TryParse(value, NumberStyles.Float, Invariant, out var n) && double.IsFinite(n)
            ? n
            : throw new RingBuilderException($"{name} must be a number (got '{value}')");
}

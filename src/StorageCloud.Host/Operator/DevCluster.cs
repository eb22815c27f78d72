using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;

namespace StorageCloud.Host.Operator;

/// <summary>One process of the development cluster: the proxy or a storage node.</summary>
public sealed record DevNode(string Name, string Ip, int Zone, int Devices, bool IsProxy)
{
    /// <summary>The port /healthcheck answers on: the proxy's, or the storage node's object port.</summary>
    public int HealthPort => IsProxy ? DevCluster.ProxyPort : DevCluster.ObjectPort;
}

/// <summary>What <c>devcluster init</c> makes.</summary>
public sealed record DevClusterSpec
{
    /// <summary>Storage nodes (each in its own zone).</summary>
    public int Nodes { get; init; } = 4;

    /// <summary>Device directories per storage node.</summary>
    public int DevicesPerNode { get; init; } = 2;

    /// <summary>The first three octets of the nodes' loopback addresses: the proxy is .1, storage node N is .(10+N).</summary>
    public string IpPrefix { get; init; } = "127.0.1";

    /// <summary>log2 of the rings' partition count.</summary>
    public int PartPower { get; init; } = 8;

    /// <summary>Replicas of every object, container and account.</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>Extra configuration for every node ("Section:Key" → value), e.g. Replicator:IntervalSeconds.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>The roles of the API node (the proxy by default; add identity and volume for block volumes over NBD).</summary>
    public string ProxyRoles { get; init; } = "proxy";
}

/// <summary>
/// A development cluster on one machine, as Swift's SAIO: one proxy and several storage-node processes, each on its
/// own 127.0.x.y address with the default ports, sharing rings (3 replicas over one zone per node) and hash-path
/// secrets. Nodes are started, stopped (SIGTERM) and killed (SIGKILL) by name; each writes its log to
/// <c>&lt;dir&gt;/&lt;node&gt;/log</c>. The state lives in <c>&lt;dir&gt;/devcluster.json</c>, so every command works on a cluster
/// made by an earlier one.
/// </summary>
public sealed class DevCluster
{
    /// <summary>Ports every node uses on its own address (OpenStack's defaults).</summary>
    public const int ProxyPort = 8080, ObjectPort = 6200, ContainerPort = 6201, AccountPort = 6202;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly State _state;

    private DevCluster(string directory, State state)
    {
        Directory = Path.GetFullPath(directory);
        _state = state;
    }

    /// <summary>The cluster's directory.</summary>
    public string Directory { get; }

    /// <summary>Where the rings and their builder files are.</summary>
    public string RingDir => Path.Combine(Directory, "rings");

    /// <summary>The proxy, then the storage nodes in order.</summary>
    public IReadOnlyList<DevNode> Nodes => _state.Nodes;

    /// <summary>The storage nodes.</summary>
    public IEnumerable<DevNode> StorageNodes => _state.Nodes.Where(n => !n.IsProxy);

    /// <summary>The proxy's URL.</summary>
    public string ProxyUrl => $"http://{Node("proxy").Ip}:{ProxyPort}";

    /// <summary>The cluster's hash-path prefix and suffix.</summary>
    public (string Prefix, string Suffix) Secrets => (_state.HashPathPrefix, _state.HashPathSuffix);

    /// <summary>The node called <paramref name="name"/>; an unknown name is an <see cref="ArgumentException"/>.</summary>
    public DevNode Node(string name) => _state.Nodes.FirstOrDefault(n => n.Name == name)
        ?? throw new ArgumentException($"no node '{name}' (nodes: {string.Join(", ", _state.Nodes.Select(n => n.Name))})");

    /// <summary>The node's configuration file.</summary>
    public string ConfigPath(DevNode node) => Path.Combine(Directory, node.Name, "node.json");

    /// <summary>The node's log file.</summary>
    public string LogPath(DevNode node) => Path.Combine(Directory, node.Name, "log");

    /// <summary>The node's data directory (device directories d1..dN).</summary>
    public string DataDir(DevNode node) => Path.Combine(Directory, node.Name, "data");

    private string PidPath(DevNode node) => Path.Combine(Directory, node.Name, "pid");

    /// <summary>Makes a new cluster in <paramref name="directory"/>: node configurations and the three rings.</summary>
    public static DevCluster Init(string directory, DevClusterSpec spec)
    {
        if (spec.Nodes < spec.Replicas) throw new ArgumentException($"{spec.Replicas} replicas need at least {spec.Replicas} storage nodes");
        var parts = spec.IpPrefix.Split('.');
        if (parts.Length != 3 || parts[0] != "127" || !parts.All(p => byte.TryParse(p, out _)))
            throw new ArgumentException($"--ip-prefix must be three octets of a loopback address such as 127.0.1 (got '{spec.IpPrefix}')");
        var statePath = Path.Combine(directory, "devcluster.json");
        if (File.Exists(statePath)) throw new ArgumentException($"{directory} already holds a development cluster");
        var nodes = new List<DevNode> { new("proxy", $"{spec.IpPrefix}.1", 0, 0, true) };
        for (var i = 1; i <= spec.Nodes; i++) nodes.Add(new DevNode($"node{i}", $"{spec.IpPrefix}.{10 + i}", i, spec.DevicesPerNode, false));
        var state = new State
        {
            IpPrefix = spec.IpPrefix, PartPower = spec.PartPower, Replicas = spec.Replicas, Nodes = nodes,
            HashPathPrefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            HashPathSuffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Settings = new Dictionary<string, string>(spec.Settings),
            ProxyRoles = spec.ProxyRoles,
        };
        var cluster = new DevCluster(directory, state);
        System.IO.Directory.CreateDirectory(cluster.Directory);
        foreach (var node in nodes) cluster.WriteConfig(node);
        cluster.WriteRings();
        cluster.Save();
        return cluster;
    }

    /// <summary>Opens a cluster made by <see cref="Init"/>.</summary>
    public static DevCluster Open(string directory)
    {
        var statePath = Path.Combine(directory, "devcluster.json");
        if (!File.Exists(statePath)) throw new ArgumentException($"{directory} holds no development cluster (make one with: storagecloud devcluster init --dir {directory})");
        return new DevCluster(directory, JsonSerializer.Deserialize<State>(File.ReadAllText(statePath))!);
    }

    /// <summary>
    /// Adds a storage node in a zone of its own, adds its devices to the rings and rebalances them (at most one
    /// replica of a partition moves, as min_part_hours allows); running nodes pick the new rings up from disk.
    /// </summary>
    public DevNode AddNode(int devices)
    {
        var number = StorageNodes.Select(n => int.Parse(n.Name[4..], System.Globalization.CultureInfo.InvariantCulture)).Max() + 1;
        var node = new DevNode($"node{number}", $"{_state.IpPrefix}.{10 + number}", number, devices, false);
        _state.Nodes.Add(node);
        WriteConfig(node);
        WriteRings();
        Save();
        return node;
    }

    /// <summary>Takes a storage node's devices out of the rings (their partitions move to the others); the node itself keeps running until stopped.</summary>
    public void RemoveNode(string name)
    {
        var node = Node(name);
        if (node.IsProxy) throw new ArgumentException("the proxy holds no devices");
        if (StorageNodes.Count() - 1 < _state.Replicas) throw new ArgumentException($"{_state.Replicas} replicas need at least {_state.Replicas} storage nodes");
        foreach (var (ring, _) in RingPorts)
        {
            var builderPath = Path.Combine(RingDir, ring + ".builder.json");
            var builder = BuilderFile.Load(builderPath);
            foreach (var device in builder.LiveDevices.Where(d => d.Ip == node.Ip).ToList()) builder.RemoveDevice(device.Id);
            builder.PretendMinPartHoursPassed();
            builder.Rebalance();
            BuilderFile.Save(builder, builderPath);
            RingFile.Write(builder.ToRingData(), Path.Combine(RingDir, ring + ".ring.gz"));
        }
        _state.Nodes.Remove(node);
        _state.Removed.Add(node);
        Save();
    }

    private static readonly (string Ring, int Port)[] RingPorts = [("account", AccountPort), ("container", ContainerPort), ("object", ObjectPort)];

    private void WriteRings()
    {
        foreach (var (ring, port) in RingPorts)
        {
            var devices = new List<RingDevice>();
            foreach (var node in StorageNodes)
                for (var d = 1; d <= node.Devices; d++)
                    devices.Add(new RingDevice { Id = 0, Zone = node.Zone, Ip = node.Ip, Port = port, Device = $"d{d}", Weight = 100 });
            RingSetup.Ensure(RingDir, ring, _state.PartPower, _state.Replicas, devices);
        }
    }

    private void WriteConfig(DevNode node)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Server:BindAddress"] = node.Ip,
            ["Server:Roles"] = node.IsProxy ? _state.ProxyRoles : "object,container,account",
            ["Storage:DataDir"] = DataDir(node),
            ["Storage:Devices"] = Math.Max(1, node.Devices).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cluster:HashPathPrefix"] = _state.HashPathPrefix,
            ["Cluster:HashPathSuffix"] = _state.HashPathSuffix,
            ["Cluster:Replicas"] = _state.Replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cluster:RingDir"] = RingDir,
            // A development cluster is small and fast-changing: rings are re-read within seconds of a rebalance.
            ["Cluster:RingCheckSeconds"] = "2",
            // Devices are directories on one disk: no space is held back for the other "disks".
            ["Storage:FreeSpaceReserveBytes"] = "0",
        };
        foreach (var (key, value) in _state.Settings) settings[key] = value;
        var root = new JsonObject();
        foreach (var (key, value) in settings)
        {
            var (section, option) = (key[..key.IndexOf(':')], key[(key.IndexOf(':') + 1)..]);
            if (root[section] is not JsonObject s) root[section] = s = new JsonObject();
            s[option] = value;
        }
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, node.Name));
        File.WriteAllText(ConfigPath(node), root.ToJsonString(Json));
    }

    private void Save()
    {
        var path = Path.Combine(Directory, "devcluster.json");
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(_state, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The process id of a running node, or null.</summary>
    public int? RunningPid(DevNode node)
    {
        if (!File.Exists(PidPath(node)) || !int.TryParse(File.ReadAllText(PidPath(node)).Trim(), out var pid)) return null;
        return IsAlive(pid) && ReadCommandLine(pid).Contains(ConfigPath(node), StringComparison.Ordinal) ? pid : null;
    }

    /// <summary>Starts a node (nothing happens when it already runs) and waits until it answers /healthcheck.</summary>
    public async Task<int> StartAsync(DevNode node, DevLauncher launcher, TimeSpan? timeout = null)
    {
        if (RunningPid(node) is { } running) return running;
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = false };
        // Detached: its own session, output appended to its log, so it outlives the command that started it.
        foreach (var arg in (string[])["sh", "-c", "exec \"$@\" >>\"$0\" 2>&1 </dev/null", LogPath(node), launcher.FileName, .. launcher.Arguments, "serve", "--config", ConfigPath(node)])
            info.ArgumentList.Add(arg);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith(Configuration.HostConfiguration.EnvironmentPrefix, StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        File.AppendAllText(LogPath(node), $"--- devcluster start {DateTimeOffset.UtcNow:O}\n");
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {node.Name}");
        var pid = process.Id;
        File.WriteAllText(PidPath(node), $"{pid}\n");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (!IsAlive(pid)) throw new InvalidOperationException($"{node.Name} exited at start; the end of {LogPath(node)}:\n{Tail(LogPath(node), 15)}");
            try
            {
                using var response = await http.GetAsync($"http://{node.Ip}:{node.HealthPort}/healthcheck");
                if (response.StatusCode == HttpStatusCode.OK) return pid;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{node.Name} did not answer on {node.Ip}:{node.HealthPort}; see {LogPath(node)}");
    }

    /// <summary>Stops a node: SIGTERM and a wait for a clean exit (SIGKILL after <paramref name="timeout"/>); false when it was not running.</summary>
    public async Task<bool> StopAsync(DevNode node, TimeSpan? timeout = null)
    {
        if (RunningPid(node) is not { } pid) return false;
        _ = SendSignal(pid, 15);
        if (!await WaitGoneAsync(pid, timeout ?? TimeSpan.FromSeconds(20)))
        {
            _ = SendSignal(pid, 9);
            await WaitGoneAsync(pid, TimeSpan.FromSeconds(10));
        }
        File.Delete(PidPath(node));
        return true;
    }

    /// <summary>Kills a node with SIGKILL, as a crash would; false when it was not running.</summary>
    public async Task<bool> KillAsync(DevNode node)
    {
        if (RunningPid(node) is not { } pid) return false;
        _ = SendSignal(pid, 9);
        await WaitGoneAsync(pid, TimeSpan.FromSeconds(10));
        File.Delete(PidPath(node));
        return true;
    }

    private static async Task<bool> WaitGoneAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsAlive(pid)) return true;
            await Task.Delay(50);
        }
        return !IsAlive(pid);
    }

    // Alive: the process exists and is not a zombie waiting to be reaped.
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return state.Length > 0 && state[0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string Tail(string path, int lines)
    {
        if (!File.Exists(path)) return "";
        var all = File.ReadAllLines(path);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>The cluster's rings, as the nodes read them.</summary>
    public ClusterRings LoadRings() => ClusterRings.Load(RingDir, new Common.Hashing.PathHasher(_state.HashPathPrefix, _state.HashPathSuffix));

    private sealed class State
    {
        public string IpPrefix { get; set; } = "";
        public int PartPower { get; set; }
        public int Replicas { get; set; }
        public string HashPathPrefix { get; set; } = "";
        public string HashPathSuffix { get; set; } = "";
        public Dictionary<string, string> Settings { get; set; } = [];
        public string ProxyRoles { get; set; } = "proxy";
        public List<DevNode> Nodes { get; set; } = [];
        public List<DevNode> Removed { get; set; } = [];
    }
}

/// <summary>How to run the <c>storagecloud</c> executable: the apphost itself, or <c>dotnet storagecloud.dll</c>.</summary>
public sealed record DevLauncher(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The executable this process runs from.</summary>
    public static DevLauncher Current()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? new DevLauncher(process, [typeof(DevLauncher).Assembly.Location])
            : new DevLauncher(process, []);
    }

    /// <summary>The storagecloud.dll next to the given directory's files, run by dotnet.</summary>
    public static DevLauncher FromDirectory(string directory) => new("dotnet", [Path.Combine(directory, "storagecloud.dll")]);
}

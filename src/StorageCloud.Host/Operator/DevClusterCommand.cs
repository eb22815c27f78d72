using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace StorageCloud.Host.Operator;

/// <summary>
/// <c>storagecloud devcluster</c>: makes and drives a development cluster on this machine (one proxy, four storage
/// nodes by default). Verbs: init, start, stop, kill, status, once, replicate, add-node, remove-node.
/// </summary>
public static class DevClusterCommand
{
    /// <summary>Daemon passes in the order <c>replicate</c> runs them.</summary>
    public static readonly string[] Replicators = ["object-replicator", "container-replicator", "account-replicator", "chunk-replicator"];

    /// <summary>Builds the command.</summary>
    public static Command Build()
    {
        var command = new Command("devcluster", "A development cluster on this machine: 1 proxy and N storage-node processes on their own 127.0.x.y addresses.");
        var dir = new Option<string>("--dir") { Description = "The cluster's directory (default ./devcluster).", DefaultValueFactory = _ => "devcluster", Recursive = true };
        command.Options.Add(dir);

        var init = new Command("init", "Make the node configurations and the rings (3 replicas, one zone per node).");
        var nodes = new Option<int>("--nodes") { Description = "Storage nodes (default 4).", DefaultValueFactory = _ => 4 };
        var devices = new Option<int>("--devices") { Description = "Devices per storage node (default 2).", DefaultValueFactory = _ => 2 };
        var prefix = new Option<string>("--ip-prefix") { Description = "Loopback prefix: the proxy is <prefix>.1, node N is <prefix>.(10+N) (default 127.0.1).", DefaultValueFactory = _ => "127.0.1" };
        var partPower = new Option<int>("--part-power") { Description = "Ring partition power (default 8).", DefaultValueFactory = _ => 8 };
        var proxyRoles = new Option<string>("--proxy-roles") { Description = "Roles of the API node (default proxy; proxy,identity,volume adds Keystone and block volumes over NBD).", DefaultValueFactory = _ => "proxy" };
        var set = new Option<string[]>("--set") { Description = "Extra configuration for every node, Section:Key=Value (repeatable).", AllowMultipleArgumentsPerToken = true };
        init.Options.Add(nodes);
        init.Options.Add(devices);
        init.Options.Add(prefix);
        init.Options.Add(partPower);
        init.Options.Add(proxyRoles);
        init.Options.Add(set);
        init.SetAction(result => Run(() =>
        {
            var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in result.GetValue(set) ?? [])
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0 || pair.IndexOf(':') is <= 0) throw new ArgumentException($"--set takes Section:Key=Value (got '{pair}')");
                settings[pair[..eq]] = pair[(eq + 1)..];
            }
            var cluster = DevCluster.Init(result.GetValue(dir)!, new DevClusterSpec
            {
                Nodes = result.GetValue(nodes), DevicesPerNode = result.GetValue(devices), IpPrefix = result.GetValue(prefix)!,
                PartPower = result.GetValue(partPower), Settings = settings, ProxyRoles = result.GetValue(proxyRoles)!,
            });
            Console.Out.WriteLine($"made a development cluster in {cluster.Directory}; rings in {cluster.RingDir}");
            PrintStatus(cluster);
            return Task.FromResult(0);
        }));
        command.Subcommands.Add(init);

        command.Subcommands.Add(NodeVerb("start", "Start nodes (all by default) and wait until they answer.", dir, async (cluster, node) =>
        {
            var pid = await cluster.StartAsync(node, DevLauncher.Current());
            Console.Out.WriteLine($"{node.Name,-8} running  pid {pid}  log {cluster.LogPath(node)}");
        }));
        command.Subcommands.Add(NodeVerb("stop", "Stop nodes with SIGTERM (all by default).", dir, async (cluster, node) =>
            Console.Out.WriteLine($"{node.Name,-8} {(await cluster.StopAsync(node) ? "stopped" : "was not running")}")));
        command.Subcommands.Add(NodeVerb("kill", "Kill nodes with SIGKILL, as a crash would.", dir, async (cluster, node) =>
            Console.Out.WriteLine($"{node.Name,-8} {(await cluster.KillAsync(node) ? "killed" : "was not running")}")));

        var status = new Command("status", "Each node's address, state and log file.");
        status.SetAction(result => Run(() =>
        {
            PrintStatus(DevCluster.Open(result.GetValue(dir)!));
            return Task.FromResult(0);
        }));
        command.Subcommands.Add(status);

        var once = new Command("once", "Run one pass of a daemon on storage nodes (all by default) and print what it did.");
        var daemon = new Argument<string>("daemon") { Description = "object-replicator, container-replicator, account-replicator, object-auditor, object-updater, container-updater, ..." };
        var onceNodes = new Argument<string[]>("nodes") { Arity = ArgumentArity.ZeroOrMore };
        once.Arguments.Add(daemon);
        once.Arguments.Add(onceNodes);
        once.SetAction(result => Run(async () =>
        {
            var cluster = DevCluster.Open(result.GetValue(dir)!);
            return await RunPassesAsync(cluster, [result.GetValue(daemon)!], Targets(cluster, result.GetValue(onceNodes), storageOnly: true)) ? 0 : 1;
        }));
        command.Subcommands.Add(once);

        var replicate = new Command("replicate", "Run one object, container and account replication pass on storage nodes (all by default).");
        var replicateNodes = new Argument<string[]>("nodes") { Arity = ArgumentArity.ZeroOrMore };
        replicate.Arguments.Add(replicateNodes);
        replicate.SetAction(result => Run(async () =>
        {
            var cluster = DevCluster.Open(result.GetValue(dir)!);
            return await RunPassesAsync(cluster, Replicators, Targets(cluster, result.GetValue(replicateNodes), storageOnly: true)) ? 0 : 1;
        }));
        command.Subcommands.Add(replicate);

        var add = new Command("add-node", "Add a storage node in a new zone to the rings and rebalance them; --start starts it.");
        var addDevices = new Option<int>("--devices") { Description = "Devices of the new node (default 2).", DefaultValueFactory = _ => 2 };
        var start = new Option<bool>("--start") { Description = "Start the new node." };
        add.Options.Add(addDevices);
        add.Options.Add(start);
        add.SetAction(result => Run(async () =>
        {
            var cluster = DevCluster.Open(result.GetValue(dir)!);
            var node = cluster.AddNode(result.GetValue(addDevices));
            Console.Out.WriteLine($"added {node.Name} at {node.Ip} (zone {node.Zone}, {node.Devices} devices); rings rebalanced in {cluster.RingDir}");
            if (result.GetValue(start)) Console.Out.WriteLine($"{node.Name,-8} running  pid {await cluster.StartAsync(node, DevLauncher.Current())}  log {cluster.LogPath(node)}");
            return 0;
        }));
        command.Subcommands.Add(add);

        var remove = new Command("remove-node", "Take a storage node's devices out of the rings and rebalance them (stop the node once replication has moved its data).");
        var removeName = new Argument<string>("node");
        remove.Arguments.Add(removeName);
        remove.SetAction(result => Run(() =>
        {
            var cluster = DevCluster.Open(result.GetValue(dir)!);
            cluster.RemoveNode(result.GetValue(removeName)!);
            Console.Out.WriteLine($"removed {result.GetValue(removeName)} from the rings in {cluster.RingDir}");
            return Task.FromResult(0);
        }));
        command.Subcommands.Add(remove);
        return command;
    }

    /// <summary>Runs the daemon passes in order, each on every target at once; prints one line per node and pass. False when any failed.</summary>
    public static async Task<bool> RunPassesAsync(DevCluster cluster, IReadOnlyList<string> daemons, IReadOnlyList<DevNode> targets)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
        var ok = true;
        foreach (var daemon in daemons)
        {
            var answers = await Task.WhenAll(targets.Select(async node =>
            {
                try
                {
                    using var response = await http.PostAsync($"http://{node.Ip}:{DevCluster.ObjectPort}/daemon/{daemon}", null);
                    var body = await response.Content.ReadAsStringAsync();
                    return (node, response.IsSuccessStatusCode, response.IsSuccessStatusCode ? body : $"{(int)response.StatusCode} {body}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return (node, false, $"unreachable: {e.Message}");
                }
            }));
            foreach (var (node, success, text) in answers)
            {
                ok &= success;
                Console.Out.WriteLine($"{node.Name,-8} {daemon,-21} {text}");
            }
        }
        return ok;
    }

    private static void PrintStatus(DevCluster cluster)
    {
        foreach (var node in cluster.Nodes)
        {
            var pid = cluster.RunningPid(node);
            var address = node.IsProxy ? $"{node.Ip}:{DevCluster.ProxyPort}" : $"{node.Ip}:{DevCluster.ObjectPort}-{DevCluster.AccountPort}";
            var what = node.IsProxy ? "proxy" : $"zone {node.Zone}, {node.Devices} devices";
            Console.Out.WriteLine($"{node.Name,-8} {address,-24} {(pid is null ? "stopped" : $"running (pid {pid.Value.ToString(CultureInfo.InvariantCulture)})"),-22} {what,-20} log {cluster.LogPath(node)}");
        }
        Console.Out.WriteLine($"auth: {cluster.ProxyUrl}/auth/v1.0 (test:tester / testing)   rings: {cluster.RingDir}   recon: storagecloud recon --ring-dir {cluster.RingDir}");
    }

    private static Command NodeVerb(string name, string description, Option<string> dir, Func<DevCluster, DevNode, Task> act)
    {
        var command = new Command(name, description);
        var names = new Argument<string[]>("nodes") { Arity = ArgumentArity.ZeroOrMore };
        command.Arguments.Add(names);
        command.SetAction(result => Run(async () =>
        {
            var cluster = DevCluster.Open(result.GetValue(dir)!);
            var targets = Targets(cluster, result.GetValue(names), storageOnly: false);
            // Storage nodes first on start, so the proxy finds them; the proxy first on stop.
            if (name != "start") targets = [.. targets.OrderBy(n => n.IsProxy ? 0 : 1)];
            else targets = [.. targets.OrderBy(n => n.IsProxy ? 1 : 0)];
            foreach (var node in targets) await act(cluster, node);
            return 0;
        }));
        return command;
    }

    private static IReadOnlyList<DevNode> Targets(DevCluster cluster, string[]? names, bool storageOnly)
    {
        if (names is null || names.Length == 0) return storageOnly ? [.. cluster.StorageNodes] : cluster.Nodes;
        var list = names.Select(cluster.Node).ToList();
        if (storageOnly && list.Any(n => n.IsProxy)) throw new ArgumentException("daemon passes run on storage nodes, not on the proxy");
        return list;
    }

    // One line on stderr and exit code 1 for a usage problem, as every other storagecloud error.
    private static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or TimeoutException or IOException or JsonException
            or Ring.Builder.RingBuilderException)
        {
            Console.Error.WriteLine($"storagecloud devcluster: {e.Message}");
            return 1;
        }
    }
}

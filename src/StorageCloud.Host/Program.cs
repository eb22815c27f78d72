using System.CommandLine;
using Microsoft.Extensions.Configuration;
using StorageCloud.Block;
using StorageCloud.Common.Configuration;
using StorageCloud.Host.Configuration;
using StorageCloud.Identity;
using StorageCloud.Image;
using StorageCloud.Proxy;
using StorageCloud.Service.Hosting;
using StorageCloud.Storage;

namespace StorageCloud.Host;

/// <summary>Entry point of the `storagecloud` executable.</summary>
public static class Program
{
    /// <summary>Exit code for a configuration or usage error.</summary>
    public const int ConfigError = 2;

    /// <summary>
    /// The services this executable runs, in the order they start: storage roles first (the others reach them in
    /// memory), identity last (its catalog lists the rest). Adding a service is one line here.
    /// </summary>
    public static IReadOnlyList<StorageCloudService> Services() =>
    [
        StorageRoleService.Account(),
        StorageRoleService.Container(),
        StorageRoleService.Object(),
        new ProxyService(),
        new BlockService(),
        new ImageService(),
        new Network.NetworkService(),
        new Compute.ComputeService(),
        new Dashboard.DashboardService(),
        new IdentityService(),
    ];

    /// <summary>Parses the command line and runs the chosen command.</summary>
    public static Task<int> Main(string[] args) => RunAsync(args, Services(), CancellationToken.None);

    /// <summary>Runs a command with the given services (tests add their own); <paramref name="stop"/> ends a running appliance.</summary>
    public static async Task<int> RunAsync(string[] args, IReadOnlyList<StorageCloudService> services, CancellationToken stop)
    {
        var catalog = HostConfiguration.Catalog(services);
        var root = new RootCommand("StorageCloud: an object, block and image store that speaks the Swift and S3 APIs.");
        root.Subcommands.Add(BuildAio(catalog, services, stop));
        root.Subcommands.Add(BuildServe(catalog, services, stop));
        root.Subcommands.Add(BuildIdentity(catalog));
        root.Subcommands.Add(BuildOptions(catalog));
        root.Subcommands.Add(Operator.DevClusterCommand.Build());
        root.Subcommands.Add(Operator.ReconCommand.Build());
        root.Subcommands.Add(Operator.DispersionCommand.Build(catalog));
        root.Subcommands.Add(Operator.VolumeCommand.Build());
        root.Subcommands.Add(Operator.BackupCommand.Build());
        root.Subcommands.Add(Operator.ObjectCommand.Build());
        root.Subcommands.Add(Operator.ImageCommand.Build());
        var version = new Command("version", "Print the version.");
        version.SetAction(_ =>
        {
            Console.Out.WriteLine($"storagecloud {ProductVersion.Current} (.NET {Environment.Version})");
            return 0;
        });
        root.Subcommands.Add(version);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line, like every other configuration error; the first problem is the one to fix.
            Console.Error.WriteLine($"storagecloud: {parsed.Errors[0].Message} (see storagecloud --help)");
            return ConfigError;
        }
        return await parsed.InvokeAsync(cancellationToken: stop);
    }

    private static Command BuildAio(OptionCatalog catalog, IReadOnlyList<StorageCloudService> services, CancellationToken stop)
    {
        var command = new Command("aio", "Run every role in one process on this machine (all-in-one).");
        var config = new Option<string?>("--config") { Description = "JSON configuration file." };
        command.Options.Add(config);
        var options = AddOptions(command, catalog, except: HostConfig.Roles);
        command.SetAction((result, _) => RunAsync(catalog, services, result.GetValue(config), Overrides(result, options), ServiceContext.AllInOneMode, stop));
        return command;
    }

    private static Command BuildServe(OptionCatalog catalog, IReadOnlyList<StorageCloudService> services, CancellationToken stop)
    {
        var command = new Command("serve", $"Run the given roles ({string.Join(", ", services.Select(s => s.Name))}) with a configuration file (one node of a cluster).");
        var config = new Option<string?>("--config") { Description = "JSON configuration file." };
        command.Options.Add(config);
        var options = AddOptions(command, catalog);
        command.SetAction((result, _) => RunAsync(catalog, services, result.GetValue(config), Overrides(result, options), "serve", stop));
        return command;
    }

    private static Command BuildIdentity(OptionCatalog catalog)
    {
        var command = new Command("identity", "Identity service maintenance.");
        var rotate = new Command("rotate-keys", "Rotate the token keys: the staged key becomes primary, a new key is staged, the oldest beyond Identity:MaxActiveKeys is removed.");
        var config = new Option<string?>("--config") { Description = "JSON configuration file." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory (default ./data)." };
        rotate.Options.Add(config);
        rotate.Options.Add(dataDir);
        rotate.SetAction(result =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (result.GetValue(dataDir) is { } dir) overrides[HostConfig.DataDir.Key] = dir;
            Auth.AuthOptions auth;
            try
            {
                var loaded = HostConfiguration.Load(result.GetValue(config), overrides, catalog);
                auth = Auth.AuthConfig.Read(loaded, HostConfig.Read(loaded, ["identity"]).DataDir);
            }
            catch (ConfigurationException e)
            {
                Console.Error.WriteLine($"storagecloud: {e.Message}");
                return ConfigError;
            }
            var keys = new Auth.Tokens.KeyRepository(auth.KeyRepository, auth.MaxActiveKeys);
            var primary = keys.Rotate();
            Console.Out.WriteLine($"rotated {auth.KeyRepository}: primary key {primary}, keys {string.Join(" ", keys.Indexes())} (0 is staged)");
            return 0;
        });
        command.Subcommands.Add(rotate);
        return command;
    }

    private static Command BuildOptions(OptionCatalog catalog)
    {
        var command = new Command("options", "Print every configuration option, section by section, as the Markdown tables of docs/configuration.md.");
        command.SetAction(_ =>
        {
            foreach (var section in catalog.Sections)
            {
                Console.Out.WriteLine($"### {section}");
                Console.Out.WriteLine();
                Console.Out.Write(catalog.MarkdownTable(section));
                Console.Out.WriteLine();
            }
            return 0;
        });
        return command;
    }

    // Values are taken as strings and checked with the rest of the configuration, so a bad option on the
    // command line fails exactly like a bad one in the file: one line naming it, exit code 2.
    private static List<(Option<string?> Option, string Key)> AddOptions(Command command, OptionCatalog catalog, ConfigOption? except = null)
    {
        var list = new List<(Option<string?>, string)>();
        foreach (var declared in catalog.CommandLine)
        {
            if (declared == except) continue;
            var option = new Option<string?>(declared.CommandLine!) { Description = $"{declared.Help} ({declared.Key}, default {declared.DefaultText})." };
            command.Options.Add(option);
            list.Add((option, declared.Key));
        }
        return list;
    }

    private static Dictionary<string, string?> Overrides(ParseResult result, List<(Option<string?> Option, string Key)> options)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, key) in options)
        {
            if (result.GetValue(option) is { } value) overrides[key] = value;
        }
        return overrides;
    }

    private static async Task<int> RunAsync(OptionCatalog catalog, IReadOnlyList<StorageCloudService> services, string? configFile,
        Dictionary<string, string?> overrides, string mode, CancellationToken stop)
    {
        IConfigurationRoot configuration;
        HostSettings host;
        DataDirectory data;
        List<StorageCloudService> running;
        try
        {
            configuration = HostConfiguration.Load(configFile, overrides, catalog);
            var allInOne = mode == ServiceContext.AllInOneMode;
            host = HostConfig.Read(configuration, allInOne ? services.Select(s => s.Name).ToList() : ["proxy"]);
            running = [];
            foreach (var role in host.Roles)
            {
                if (services.FirstOrDefault(s => s.Name == role) is not { } service)
                    throw new ConfigurationException(HostConfig.Roles.Key, $"unknown role '{role}' (known: {string.Join(", ", services.Select(s => s.Name))})");
                running.Add(service);
            }
            // The services start in the order they are listed, whatever order the roles were given in.
            running.Sort((a, b) => IndexOf(services, a).CompareTo(IndexOf(services, b)));
            if (allInOne && host.Replicas > host.Devices)
                throw new ConfigurationException(HostConfig.Replicas.Key, $"{host.Replicas} replicas need at least as many devices (Storage:Devices is {host.Devices})");
            data = DataDirectory.Prepare(host.DataDir, host.Devices, host.HashPathPrefix, host.HashPathSuffix);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"storagecloud: {e.Message}");
            return ConfigError;
        }
        return await Appliance.RunAsync(configuration, host, mode, data, running, stop);
    }

    private static int IndexOf(IReadOnlyList<StorageCloudService> services, StorageCloudService service)
    {
        for (var i = 0; i < services.Count; i++)
            if (ReferenceEquals(services[i], service)) return i;
        return -1;
    }
}

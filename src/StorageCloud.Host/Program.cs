using System.CommandLine;
using StorageCloud.Common.Configuration;
using StorageCloud.Host.Configuration;

namespace StorageCloud.Host;

/// <summary>Entry point of the `storagecloud` executable.</summary>
public static class Program
{
    /// <summary>Exit code for a configuration or usage error.</summary>
    public const int ConfigError = 2;

    /// <summary>Parses the command line and runs the chosen command.</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("StorageCloud: an object, block and image store that speaks the Swift and S3 APIs.");
        root.Subcommands.Add(BuildAio());
        root.Subcommands.Add(BuildServe());
        root.Subcommands.Add(BuildIdentity());
        root.Subcommands.Add(Operator.DevClusterCommand.Build());
        root.Subcommands.Add(Operator.ReconCommand.Build());
        root.Subcommands.Add(Operator.DispersionCommand.Build());
        var version = new Command("version", "Print the version.");
        version.SetAction(_ =>
        {
            Console.Out.WriteLine($"storagecloud {Appliance.Version} (.NET {Environment.Version})");
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
        return await parsed.InvokeAsync();
    }

    // Values are taken as strings and checked with the rest of the configuration, so a bad option on the
    // command line fails exactly like a bad one in the file: one line naming it, exit code 2.
    private static readonly (string Option, string Key, string Help)[] CommonOptions =
    [
        ("--bind", "Server:BindAddress", "Address to listen on (default 127.0.0.1)."),
        ("--port", "Server:ProxyPort", "Proxy port (default 8080)."),
        ("--object-port", "Server:ObjectPort", "Object server port (default 6200)."),
        ("--container-port", "Server:ContainerPort", "Container server port (default 6201)."),
        ("--account-port", "Server:AccountPort", "Account server port (default 6202)."),
        ("--identity-port", "Server:IdentityPort", "Identity (Keystone v3) port (default 5000)."),
        ("--data-dir", "Storage:DataDir", "Data directory (default ./data)."),
        ("--devices", "Storage:Devices", "Number of device directories d1..dN (default 4)."),
        ("--log-level", "Logging:Level", "trace, debug, information, warning or error (default information)."),
        ("--log-format", "Logging:Format", "simple or json (default simple)."),
    ];

    private static Command BuildAio()
    {
        var command = new Command("aio", "Run every role in one process on this machine (all-in-one).");
        var config = new Option<string?>("--config") { Description = "JSON configuration file." };
        command.Options.Add(config);
        var options = AddCommonOptions(command);
        command.SetAction((result, _) => RunAsync(result.GetValue(config), Overrides(result, options), StorageCloudConfig.AllRoles, "all-in-one"));
        return command;
    }

    private static Command BuildServe()
    {
        var command = new Command("serve", "Run the given roles with a configuration file (one node of a cluster).");
        var config = new Option<string?>("--config") { Description = "JSON configuration file." };
        var roles = new Option<string?>("--roles") { Description = $"Comma-separated roles: {string.Join(",", StorageCloudConfig.AllRoles)}." };
        command.Options.Add(config);
        command.Options.Add(roles);
        var options = AddCommonOptions(command);
        command.SetAction((result, _) =>
        {
            var overrides = Overrides(result, options);
            if (result.GetValue(roles) is { } list) overrides["Server:Roles"] = list;
            return RunAsync(result.GetValue(config), overrides, ["proxy"], "serve");
        });
        return command;
    }

    private static Command BuildIdentity()
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
            if (result.GetValue(dataDir) is { } dir) overrides["Storage:DataDir"] = dir;
            StorageCloudConfig loaded;
            try
            {
                loaded = StorageCloudConfig.Load(result.GetValue(config), overrides, ["identity"]);
            }
            catch (ConfigurationException e)
            {
                Console.Error.WriteLine($"storagecloud: {e.Message}");
                return ConfigError;
            }
            var keys = new Identity.Tokens.KeyRepository(loaded.Identity.Service.KeyRepository, loaded.Identity.Service.MaxActiveKeys);
            var primary = keys.Rotate();
            Console.Out.WriteLine($"rotated {loaded.Identity.Service.KeyRepository}: primary key {primary}, keys {string.Join(" ", keys.Indexes())} (0 is staged)");
            return 0;
        });
        command.Subcommands.Add(rotate);
        return command;
    }

    private static List<(Option<string?> Option, string Key)> AddCommonOptions(Command command)
    {
        var list = new List<(Option<string?>, string)>();
        foreach (var (name, key, help) in CommonOptions)
        {
            var option = new Option<string?>(name) { Description = help };
            command.Options.Add(option);
            list.Add((option, key));
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

    private static async Task<int> RunAsync(string? configFile, Dictionary<string, string?> overrides, IReadOnlyList<string> defaultRoles, string mode)
    {
        StorageCloudConfig config;
        DataDirectory data;
        try
        {
            config = StorageCloudConfig.Load(configFile, overrides, defaultRoles);
            if (mode == "all-in-one" && config.Replicas > config.Devices)
                throw new ConfigurationException("Cluster:Replicas", $"{config.Replicas} replicas need at least as many devices (Storage:Devices is {config.Devices})");
            data = DataDirectory.Prepare(config.DataDir, config.Devices, config.HashPathPrefix, config.HashPathSuffix);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"storagecloud: {e.Message}");
            return ConfigError;
        }
        return await Appliance.RunAsync(config, data, mode);
    }
}

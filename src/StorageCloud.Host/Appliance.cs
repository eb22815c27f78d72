using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Http;
using StorageCloud.Storage.ObjectServer;
using StorageCloud.Host.Configuration;

namespace StorageCloud.Host;

/// <summary>Builds and runs the web host for the configured roles, with the middleware pipeline in one visible order.</summary>
public static class Appliance
{
    /// <summary>The product version, from the assembly.</summary>
    public static string Version { get; } =
        typeof(Appliance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Runs until SIGINT or SIGTERM; returns the process exit code.</summary>
    public static async Task<int> RunAsync(StorageCloudConfig config, DataDirectory data, string mode)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "storagecloud" });
        ConfigureLogging(builder.Logging, config);
        var objectRole = config.Roles.Contains("object");
        var containerRole = config.Roles.Contains("container");
        var accountRole = config.Roles.Contains("account");
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            if (config.Roles.Contains("proxy")) k.Listen(config.BindAddress, config.ProxyPort);
            if (objectRole) k.Listen(config.BindAddress, config.ObjectPort);
            if (containerRole) k.Listen(config.BindAddress, config.ContainerPort);
            if (accountRole) k.Listen(config.BindAddress, config.AccountPort);
        });
        builder.Services.AddRoutingCore();

        var info = new SwiftInfo();
        RegisterCoreInfo(info, config);
        builder.Services.AddSingleton(info);
        builder.Services.AddSingleton(new TransactionIdOptions { Suffix = config.TransIdSuffix });
        builder.Services.AddSingleton(new HealthcheckOptions { DisablePath = config.HealthcheckDisablePath });

        await using var storage = objectRole || containerRole || accountRole
            ? StorageNode.Open(data.Devices, new PathHasher(data.Secrets.HashPathPrefix, data.Secrets.HashPathSuffix),
                new Storage.Engine.DeviceEngineOptions { FreeSpaceReserveBytes = config.FreeSpaceReserveBytes })
            : null;

        using var backendHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        var containerUpdater = new ContainerUpdater(backendHttp, TimeSpan.FromSeconds(1));
        var reporter = new Storage.Container.AccountReporter(backendHttp);
        var containerServer = storage is not null && containerRole ? new Storage.Container.ContainerServer(storage, config.Constraints, reporter) : null;
        if (storage is not null)
        {
            builder.Services.AddSingleton(storage);
            builder.Services.AddSingleton(containerUpdater);
            builder.Services.AddSingleton(config.Auditor);
            builder.Services.AddSingleton(config.Updater);
            builder.Services.AddSingleton(config.Compaction);
            builder.Services.AddSingleton(new DaemonRoles(objectRole, containerServer, reporter));
            builder.Services.AddHostedService<StorageDaemons>();
        }

        var app = builder.Build();
        // Storage roles, by port: they trust the proxy's transaction id.
        if (storage is not null && accountRole)
        {
            var accountServer = new Storage.Account.AccountServer(storage, config.Constraints);
            app.MapWhen(c => c.Connection.LocalPort == config.AccountPort, node =>
            {
                node.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { TrustIncoming = true });
                node.UseMiddleware<HealthcheckMiddleware>();
                node.Run(accountServer.HandleAsync);
            });
        }
        if (containerServer is not null)
        {
            app.MapWhen(c => c.Connection.LocalPort == config.ContainerPort, node =>
            {
                node.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { TrustIncoming = true });
                node.UseMiddleware<HealthcheckMiddleware>();
                node.Run(containerServer.HandleAsync);
            });
        }
        if (storage is not null && objectRole)
        {
            var objectServer = new ObjectServer(storage, config.Constraints, containerUpdater);
            app.MapWhen(c => c.Connection.LocalPort == config.ObjectPort, node =>
            {
                node.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { TrustIncoming = true });
                node.UseMiddleware<HealthcheckMiddleware>();
                node.Run(objectServer.HandleAsync);
            });
        }
        // The proxy pipeline, in order (as Swift's paste pipeline): transaction id + access log -> healthcheck -> info.
        // Later issues add auth, feature middleware and the controllers after these.
        app.UseMiddleware<TransactionIdMiddleware>();
        app.UseMiddleware<HealthcheckMiddleware>();
        app.UseMiddleware<SwiftInfoMiddleware>();
        app.Run(context => SwiftResponses.WriteAsync(context, 404));

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("storagecloud");
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(config, data, mode));
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"storagecloud: cannot listen on {config.BindAddress} (ports {config.ProxyPort}, {config.ObjectPort}): {e.Message}");
            return 1;
        }
        logger.LogInformation("roles {Roles} running; data in {DataDir}", string.Join(",", config.Roles), data.Root);
        await app.WaitForShutdownAsync();
        logger.LogInformation("stopped");
        return 0;
    }

    private static void RegisterCoreInfo(SwiftInfo info, StorageCloudConfig config)
    {
        var swift = new Dictionary<string, object>(config.Constraints.ToInfo())
        {
            ["version"] = Version,
            ["strict_cors_mode"] = true,
            ["allow_account_management"] = false,
            ["account_autocreate"] = true,
            ["policies"] = new[] { new Dictionary<string, object> { ["name"] = "Policy-0", ["aliases"] = "Policy-0", ["default"] = true } },
        };
        info.Register("swift", swift);
        info.Register("storagecloud", new Dictionary<string, object>
        {
            ["version"] = Version,
            ["roles"] = config.Roles,
            ["replicas"] = config.Replicas,
        });
    }

    private static void ConfigureLogging(ILoggingBuilder logging, StorageCloudConfig config)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(Enum.Parse<LogLevel>(config.LogLevel, ignoreCase: true));
        // Kestrel and hosting chatter stays at warning unless asked for.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        if (config.LogFormat == "json")
        {
            logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.IncludeScopes = true;
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    }

    private static void PrintBanner(StorageCloudConfig config, DataDirectory data, string mode)
    {
        var host = config.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : config.BindAddress.ToString();
        var url = $"http://{host}:{config.ProxyPort}";
        Console.Out.WriteLine($"""
            StorageCloud {Version} ({mode}) is running. Stop it with Ctrl-C.
              proxy        {url}   (GET {url}/healthcheck, GET {url}/info)
              object       {(config.Roles.Contains("object") ? $"http://{host}:{config.ObjectPort}/<device>/<partition>/<account>/<container>/<object>" : "(not running)")}
              container    {(config.Roles.Contains("container") ? $"http://{host}:{config.ContainerPort}/<device>/<partition>/<account>/<container>" : "(not running)")}
              account      {(config.Roles.Contains("account") ? $"http://{host}:{config.AccountPort}/<device>/<partition>/<account>" : "(not running)")}
              data         {data.Root} ({data.Devices.Count} devices: {string.Join(" ", data.Devices.Select(Path.GetFileName))})
              roles        {string.Join(", ", config.Roles)}
              replicas     {config.Replicas}
              credentials  none needed yet: the proxy serves only /healthcheck and /info so far
            """);
        Console.Out.Flush();
    }
}

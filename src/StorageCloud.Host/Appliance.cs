using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Hashing;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;

namespace StorageCloud.Host;

/// <summary>
/// Composes the services of one process into one web host: a listener per service port, each port's pipeline built
/// by its service, the daemons of every service, the start-up steps, and the banner. Nothing here knows what any
/// service does.
/// </summary>
public static class Appliance
{
    /// <summary>Runs until SIGINT, SIGTERM or <paramref name="stop"/>; returns the process exit code.</summary>
    public static async Task<int> RunAsync(IConfiguration configuration, HostSettings host, string mode, DataDirectory data,
        IReadOnlyList<StorageCloudService> services, CancellationToken stop)
    {
        var context = new ServiceContext(configuration, host, mode, new DataLayout(data.Root, data.Devices,
            new PathHasher(data.Secrets.HashPathPrefix, data.Secrets.HashPathSuffix)), services);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "storagecloud" });
        ConfigureLogging(builder.Logging, host);
        List<(StorageCloudService Service, int Port)> listeners;
        try
        {
            listeners = Listeners(context);
            if (context.AllInOne) AllInOneRings.Ensure(context);
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
            {
                StorageCloud.Service.Http.KestrelDefaults.Apply(k);
                foreach (var (_, port) in listeners) k.Listen(host.BindAddress, port);
            });
            builder.Services.AddRoutingCore();
            foreach (var service in services) service.Register(context, builder.Services);
            builder.Services.AddHostedService<DaemonScheduler>();
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"storagecloud: {e.Message}");
            return Program.ConfigError;
        }
        catch (ServiceStartException e)
        {
            Console.Error.WriteLine($"storagecloud: {e.Message}");
            return e.ExitCode;
        }

        await using var app = builder.Build();
        context.LocalRoutes.Services = app.Services;
        foreach (var (service, port) in listeners)
        {
            var branch = ((IApplicationBuilder)app).New();
            branch.UseMiddleware<MetricsMiddleware>(service.Name);
            service.MapPipeline(context, branch);
            var pipeline = branch.Build();
            app.MapWhen(c => c.Connection.LocalPort == port, b => b.Run(pipeline));
            // Backend requests of this process for its own storage roles (the proxy's, container updates,
            // replication between its devices) run in memory.
            if (service.ServesBackend && host.InProcessBackend) context.LocalRoutes.Add(context.LocalHost, port, pipeline);
        }
        app.Run(c => SwiftResponses.WriteAsync(c, 404));

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("storagecloud");
        try
        {
            foreach (var service in services) await service.StartAsync(context, app.Services, stop);
        }
        catch (ServiceStartException e)
        {
            Console.Error.WriteLine($"storagecloud: {e.Message}");
            return e.ExitCode;
        }
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(context, app.Services));
        try
        {
            await app.StartAsync(stop);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"storagecloud: cannot listen on {host.BindAddress} (ports {string.Join(", ", listeners.Select(l => l.Port))}): {e.Message}");
            return 1;
        }
        logger.LogInformation("roles {Roles} running; data in {DataDir}", string.Join(",", host.Roles), data.Root);
        await app.WaitForShutdownAsync(stop);
        logger.LogInformation("stopped");
        return 0;
    }

    /// <summary>Each service's port; two services on one port is a configuration error.</summary>
    private static List<(StorageCloudService, int)> Listeners(ServiceContext context)
    {
        var listeners = new List<(StorageCloudService, int)>();
        foreach (var service in context.Services)
        {
            if (service.Port is not { } option) continue;
            var port = context.PortOf(service);
            foreach (var (other, taken) in listeners)
                if (taken == port) throw new ConfigurationException(option.Key, $"port {port} is already the {other.Name} service's");
            listeners.Add((service, port));
        }
        return listeners;
    }

    private static void ConfigureLogging(ILoggingBuilder logging, HostSettings host)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(Enum.Parse<LogLevel>(host.LogLevel, ignoreCase: true));
        // Kestrel and hosting chatter stays at warning unless asked for.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        if (host.LogFormat == "json")
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

    private static void PrintBanner(ServiceContext context, IServiceProvider services)
    {
        var host = context.Host;
        var lines = new List<string> { $"StorageCloud {ProductVersion.Current} ({context.Mode}) is running. Stop it with Ctrl-C." };
        foreach (var service in context.Services)
            foreach (var line in service.BannerLines(context, services)) lines.Add("  " + line);
        lines.Add($"  {"data",-12} {context.Data.Root} ({context.Data.Devices.Count} devices: {string.Join(" ", context.Data.Devices.Select(Path.GetFileName))})");
        lines.Add($"  {"roles",-12} {string.Join(", ", host.Roles)}");
        lines.Add($"  {"replicas",-12} {host.Replicas.ToString(CultureInfo.InvariantCulture)}");
        lines.Add($"  {"rings",-12} {host.RingDir}");
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Console.Out.Flush();
    }
}

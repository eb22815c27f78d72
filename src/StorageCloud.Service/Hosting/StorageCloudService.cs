using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Service.Hosting;

/// <summary>
/// The shape every service plugs into. A service has a role name, a port option (declared once, with its default and
/// its command-line alias), the option sections it reads, its registrations, the request pipeline on its port, its
/// daemons (registered as <see cref="ServiceDaemon"/>s), a start-up step, its entries in the identity catalog and its
/// lines in the start-up banner. The host (`storagecloud aio`, `serve --roles`) composes the services of a process
/// from these and nothing else: adding a service is one class and one line in the host's list.
/// </summary>
public abstract class StorageCloudService
{
    /// <summary>The role name (`--roles`), which is also how other services ask whether it runs.</summary>
    public abstract string Name { get; }

    /// <summary>One line for the help text.</summary>
    public abstract string Summary { get; }

    /// <summary>The option its port is read from; null for a service with no listener of its own.</summary>
    public virtual Int32Option? Port => null;

    /// <summary>The option sections it declares (every value is checked before anything starts).</summary>
    public virtual IEnumerable<OptionSection> OptionSections => [];

    /// <summary>
    /// Adds its parts to the container. Reads its options from <see cref="ServiceContext.Configuration"/>; a value
    /// that cannot work throws <see cref="ConfigurationException"/> (exit code 2, one line naming the option).
    /// </summary>
    public virtual void Register(ServiceContext context, IServiceCollection services)
    {
    }

    /// <summary>Builds the pipeline that answers requests on its port.</summary>
    public virtual void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
    }

    /// <summary>True for storage-node roles: this process's own backend requests to its port run in memory.</summary>
    public virtual bool ServesBackend => false;

    /// <summary>
    /// Work between building the container and opening the listeners (a bootstrap, opening a database). A failure
    /// that stops the service throws <see cref="ServiceStartException"/>.
    /// </summary>
    public virtual Task StartAsync(ServiceContext context, IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The entries it has in the identity catalog (the catalog lists only services that run).</summary>
    public virtual IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context) => [];

    /// <summary>Its lines in the start-up banner ("proxy        http://127.0.0.1:8080 ...").</summary>
    public virtual IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        Port is null ? [] : [$"{Name,-12} {context.UrlOf(Name)}"];

    /// <summary>A health problem that makes /healthcheck answer 503 (null when healthy).</summary>
    public virtual ValueTask<string?> CheckHealthAsync(IServiceProvider services, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);
}

/// <summary>An entry of the identity catalog: the service type and name, and its URL on every interface.</summary>
public sealed record CatalogEntry(string Type, string Name, string Url);

/// <summary>A service that cannot start; the host prints the message and exits with the code.</summary>
public sealed class ServiceStartException(string message, int exitCode = 1, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The process's exit code.</summary>
    public int ExitCode { get; } = exitCode;
}

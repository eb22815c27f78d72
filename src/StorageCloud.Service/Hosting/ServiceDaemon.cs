using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StorageCloud.Service.Hosting;

/// <summary>
/// A background pass a service repeats: its name, how often (0: only when asked), whether the first pass runs at
/// start, and the pass itself. Services register them in the container; the host runs them all.
/// </summary>
public sealed record ServiceDaemon(string Name, int IntervalSeconds, bool StartAtOnce, Func<CancellationToken, Task> Pass);

/// <summary>A service's daemons, asked for once the container is built (they may need what it holds).</summary>
public interface IDaemonSource
{
    /// <summary>The daemons to run.</summary>
    IEnumerable<ServiceDaemon> Daemons();
}

/// <summary>Runs every registered daemon on its interval until the process stops; one pass failing never stops the loop.</summary>
public sealed class DaemonScheduler(IEnumerable<IDaemonSource> sources, ILogger<DaemonScheduler> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task>();
        foreach (var source in sources)
            foreach (var daemon in source.Daemons())
                loops.Add(RepeatAsync(daemon, stoppingToken));
        return Task.WhenAll(loops);
    }

    private async Task RepeatAsync(ServiceDaemon daemon, CancellationToken stoppingToken)
    {
        if (daemon.IntervalSeconds <= 0) return;
        try
        {
            if (!daemon.StartAtOnce) await Task.Delay(TimeSpan.FromSeconds(daemon.IntervalSeconds), stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await daemon.Pass(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "{Daemon} pass failed", daemon.Name);
                }
                await Task.Delay(TimeSpan.FromSeconds(daemon.IntervalSeconds), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

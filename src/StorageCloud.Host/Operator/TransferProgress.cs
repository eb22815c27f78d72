using Spectre.Console;

namespace StorageCloud.Host.Operator;

/// <summary>Progress bars for uploads and downloads of the operator commands: bytes done, speed, time left.</summary>
public static class TransferProgress
{
    /// <summary>Runs <paramref name="work"/> under one percentage bar; the work reports the percent done as it learns it.</summary>
    public static Task RunPercentAsync(string description, Func<Action<int>, Task> work) =>
        AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: 100);
                await work(percent => task.Value = Math.Max(task.Value, percent));
                task.Value = 100;
            });

    /// <summary>Runs <paramref name="work"/> under one progress bar of <paramref name="total"/> bytes; the work reports bytes as they move.</summary>
    public static async Task<T> RunAsync<T>(string description, long total, Func<Action<long>, Task<T>> work)
    {
        T result = default!;
        await AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                result = await work(bytes => task.Increment(bytes));
                task.Value = task.MaxValue;
            });
        return result;
    }
}

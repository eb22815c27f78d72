using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Image.Images;
using StorageCloud.Service.Api;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Image.Glance;

/// <summary>
/// Import tasks, as Glance keeps them (API 2.12, `GET /v2/images/{id}/tasks`): each import request makes one, which
/// ends in success or failure; clients wait on them. A background import touches its task while it runs; the
/// import sweeper fails a task (and puts its image back to queued, the failure recorded) when nothing has touched it
/// for Image:ImportStallSeconds, which is what an import whose process stopped looks like, on this node or another.
/// </summary>
public sealed partial class GlanceApi : IDaemonSource
{
    /// <summary>How often a running import touches its task, and the sweeper looks: a fifth of the stall time.</summary>
    private TimeSpan Heartbeat => TimeSpan.FromSeconds(Math.Clamp(_settings.ImportStall.TotalSeconds / 5, 1, 60));

    private void MapTasks() => _router.Map("GET", "/v2/images/{id}/tasks", ImageTasksAsync);

    private async Task ImageTasksAsync(ApiRequest r)
    {
        var row = await FindAsync(r, r.Args[0]);
        var tasks = new JsonArray();
        foreach (var task in await _store.ListAsync<ImageTaskRow>(("image_id", row.Id))) tasks.Add(TaskView(task));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tasks"] = tasks });
    }

    private static JsonObject TaskView(ImageTaskRow task) => new()
    {
        ["id"] = task.Id,
        ["type"] = "api_image_import",
        ["status"] = task.Status,
        ["owner"] = task.Owner,
        ["image_id"] = task.ImageId,
        ["user_id"] = task.UserId,
        ["request_id"] = task.RequestId,
        ["input"] = JsonNode.Parse(task.Input),
        ["result"] = task.Status == "success" ? new JsonObject { ["image_id"] = task.ImageId } : null,
        ["message"] = task.Message,
        ["created_at"] = task.CreatedAt,
        ["updated_at"] = task.UpdatedAt,
        ["expires_at"] = null,
        ["deleted"] = false,
        ["deleted_at"] = null,
    };

    /// <summary>Records an import of <paramref name="row"/> that has begun (processing).</summary>
    private async Task<ImageTaskRow> StartTaskAsync(ApiRequest r, ImageRow row, JsonObject method)
    {
        var now = Now();
        var task = new ImageTaskRow
        {
            Id = Guid.NewGuid().ToString("D"),
            ImageId = row.Id,
            Owner = row.Owner,
            UserId = Me(r).UserId,
            RequestId = r.Context.Response.Headers["x-openstack-request-id"].ToString(),
            Status = "processing",
            Input = new JsonObject { ["image_id"] = row.Id, ["import_req"] = new JsonObject { ["method"] = method.DeepClone() }, ["backend"] = new JsonArray(StoreId) }.ToJsonString(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await _store.InsertAsync(task);
        return task;
    }

    private async Task FinishTaskAsync(ImageTaskRow task, bool success, string message)
    {
        task.Status = success ? "success" : "failure";
        task.Message = message;
        task.UpdatedAt = Now();
        await _store.UpdateAsync(task);
    }

    /// <summary>Touches the task every <see cref="Heartbeat"/> until disposed, so the sweeper knows its worker lives.</summary>
    private IDisposable KeepAlive(ImageTaskRow task) => new Timer(_ => _ = TouchAsync(task), null, Heartbeat, Heartbeat);

    /// <summary>One heartbeat; a failed one is logged (a run of them lets the sweeper fail the import, as it should).</summary>
    private async Task TouchAsync(ImageTaskRow task)
    {
        try
        {
            await _store.ExecuteAsync("UPDATE image_tasks SET updated_at = @now WHERE id = @id AND status = 'processing'", new { id = task.Id, now = Now() });
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            _logger.LogWarning("import task {Task} heartbeat not recorded: {Reason}", task.Id, e.Message);
        }
    }

    /// <summary>A background import that failed: its task fails and the image is queued again, the failure recorded.</summary>
    private async Task FailImportAsync(string imageId, ImageTaskRow task, string reason)
    {
        // The stored row, not the worker's copy: what the import had meant to change must not stick. The image first:
        // a client waiting on the task finds it queued.
        if (await _store.GetAsync<ImageRow>(imageId) is { Status: "importing" } row)
        {
            row.Status = "queued";
            SetImportState(row, importing: false, failed: true);
            row.UpdatedAt = Now();
            await _store.UpdateAsync(row);
        }
        await FinishTaskAsync(task, success: false, reason);
        _logger.LogWarning("image {Image}: import failed: {Reason}", imageId, reason);
    }

    /// <inheritdoc />
    public IEnumerable<ServiceDaemon> Daemons() =>
        [new ServiceDaemon("image-import-sweeper", (int)Heartbeat.TotalSeconds, true, SweepStalledImportsAsync), new ServiceDaemon("image-cache-prefetcher", 300, true, PrefetchQueuedAsync)];

    /// <summary>The import sweeper's pass: fails the imports no worker has touched for Image:ImportStallSeconds.</summary>
    public async Task SweepStalledImportsAsync(CancellationToken cancellationToken)
    {
        var before = DateTimeOffset.UtcNow.Subtract(_settings.ImportStall).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        foreach (var task in await _store.StalledTasksAsync(before))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await FailImportAsync(task.ImageId, task, $"the import stopped: its worker showed no sign of life for {_settings.ImportStall.TotalSeconds:0} s (its service stopped)");
        }
    }
}

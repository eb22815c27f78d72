using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;
using StorageCloud.Service.Http;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// User messages (3.3+): why a request the API accepted ended in error, for the project that made it (Cinder's
/// "No valid backend" when a type's extra specs ask for what the backend lacks). Kept 31 days, as Cinder keeps them.
/// </summary>
public sealed partial class CinderApi
{
    private static readonly TimeSpan MessageLifetime = TimeSpan.FromDays(31);

    private void MapMessages()
    {
        Project("GET", "/messages", ListMessagesAsync);
        Project("GET", "/messages/{id}", ShowMessageAsync);
        Project("DELETE", "/messages/{id}", DeleteMessageAsync);
    }

    /// <summary>Records a message about <paramref name="resourceId"/> for the request's project.</summary>
    private async Task AddMessageAsync(ApiRequest r, string project, string resourceId, string eventId, string text)
    {
        var now = DateTimeOffset.UtcNow;
        await _store.InsertAsync(new UserMessageRow
        {
            Id = Guid.NewGuid().ToString("D"),
            ProjectId = project,
            ResourceUuid = resourceId,
            EventId = eventId,
            UserMessage = text,
            RequestId = r.Context.Items[TransactionIdMiddleware.ItemKey] as string ?? "req-" + Guid.NewGuid().ToString("D"),
            CreatedAt = VolumeManager.Now(),
            GuaranteedUntil = (now + MessageLifetime).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    private static JsonObject MessageView(ApiRequest r, UserMessageRow row) => new()
    {
        ["id"] = row.Id,
        ["message_level"] = row.MessageLevel,
        ["event_id"] = row.EventId,
        ["user_message"] = row.UserMessage,
        ["resource_type"] = row.ResourceType,
        ["resource_uuid"] = row.ResourceUuid,
        ["request_id"] = row.RequestId,
        ["created_at"] = row.CreatedAt,
        ["guaranteed_until"] = row.GuaranteedUntil,
        ["links"] = Links(r, "messages", row.Id),
    };

    private static void RequireMessages(ApiRequest r)
    {
        Enforce(r, "read");
        if (!Version(r).AtLeast(new ApiVersion(3, 3))) throw ApiError.NotFound("The resource could not be found.");
    }

    private async Task ListMessagesAsync(ApiRequest r)
    {
        RequireMessages(r);
        var now = VolumeManager.Now();
        await _store.ExecuteAsync("DELETE FROM messages WHERE guaranteed_until < @now", new { now });
        var items = new JsonArray();
        foreach (var row in (await _store.ListAsync<UserMessageRow>(("project_id", AllTenants(r) ? null : ProjectOf(r)))).OrderByDescending(m => m.CreatedAt, StringComparer.Ordinal))
            items.Add(MessageView(r, row));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["messages"] = items });
    }

    private async Task<UserMessageRow> FindMessageAsync(ApiRequest r)
    {
        RequireMessages(r);
        var id = r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<UserMessageRow>(guid.ToString("D")) : null;
        if (row is null || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"Message {id} could not be found.");
        return row;
    }

    private async Task ShowMessageAsync(ApiRequest r) =>
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["message"] = MessageView(r, await FindMessageAsync(r)) });

    private async Task DeleteMessageAsync(ApiRequest r)
    {
        var row = await FindMessageAsync(r);
        Enforce(r, "write", row.ProjectId);
        await _store.DeleteAsync<UserMessageRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 204);
    }
}

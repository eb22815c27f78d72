using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Image.Images;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// The web-download import (off unless Image:WebDownload): the URL is checked at once (400 for a scheme, port or
/// address web-download does not fetch), the image goes queued → importing and the answer is 202; the data is then
/// fetched in the background through the same digests, inspector and quota as an upload. It becomes active, or goes
/// back to queued when the fetch or the checks fail, as Glance's failed imports do (os_glance_failed_import names the
/// store). A host that does not resolve is such a failure, not a 400: only what is known to be refused is refused at once.
/// </summary>
public sealed partial class GlanceApi
{
    private async Task StartWebDownloadAsync(ApiRequest r, ImageRow row, JsonObject method)
    {
        RequireFormats(row);
        var uri = JsonBody.String(method, "uri", "method");
        try
        {
            await _web.CheckAsync(uri, r.Context.RequestAborted, unresolvedIsLater: true);
        }
        catch (WebDownloadRefusedException e)
        {
            throw ApiError.BadRequest($"URI for web-download does not pass filtering: {e.Message}");
        }
        if (!await _store.TransitionAsync(row.Id, "queued", "importing", Now()))
            throw ApiError.Conflict($"Image {row.Id} must be queued for a web-download import (status {row.Status}).");
        row.Status = "importing";
        SetImportState(row, importing: true, failed: false);
        await _store.UpdateAsync(row);
        _ = Task.Run(() => WebDownloadAsync(row, uri));
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task WebDownloadAsync(ImageRow row, string uri)
    {
        try
        {
            var (client, response) = await _web.OpenAsync(uri, CancellationToken.None);
            using var owner = client;
            using var _ = response;
            await using var body = await response.Content.ReadAsStreamAsync();
            var digest = await StoreStreamAsync(body, response.Content.Headers.ContentLength, row, DataContainer, "queued", CancellationToken.None);
            if (Refusal(row, digest.Inspected) is { } refusal)
            {
                await _objects.DeleteLargeAsync(Account, DataContainer, row.Id, CancellationToken.None);
                await BackToQueuedAsync(row, refusal);
                return;
            }
            Activate(row, digest, $"{DataContainer}/{row.Id}");
            SetImportState(row, importing: false, failed: false);
            await _store.UpdateAsync(row);
            _logger.LogInformation("image {Image} imported by web-download ({Bytes} bytes)", row.Id, digest.Size);
        }
        catch (ApiError e)
        {
            await BackToQueuedAsync(row, e.Message);
        }
        catch (Exception e) when (e is WebDownloadRefusedException or HttpRequestException or IOException or OperationCanceledException or ObjectLayerException)
        {
            await BackToQueuedAsync(row, e.Message);
        }
    }

    private async Task BackToQueuedAsync(ImageRow row, string reason)
    {
        row.Status = "queued";
        SetImportState(row, importing: false, failed: true);
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        _logger.LogWarning("image {Image}: web-download failed: {Reason}", row.Id, reason);
    }

    /// <summary>
    /// Glance's import bookkeeping in the reserved os_glance namespace: the stores an import is still writing to, and
    /// those it failed for (what clients wait on).
    /// </summary>
    private static void SetImportState(ImageRow row, bool importing, bool failed)
    {
        var properties = PropertiesOf(row);
        properties["os_glance_importing_to_stores"] = importing ? StoreId : "";
        properties["os_glance_failed_import"] = failed ? StoreId : "";
        row.Properties = properties.ToJsonString();
    }
}

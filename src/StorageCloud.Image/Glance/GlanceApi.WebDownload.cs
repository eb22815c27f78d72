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
/// back to queued when the fetch or the checks fail, as Glance's failed imports do.
/// </summary>
public sealed partial class GlanceApi
{
    private async Task StartWebDownloadAsync(ApiRequest r, ImageRow row, JsonObject method)
    {
        RequireFormats(row);
        var uri = JsonBody.String(method, "uri", "method");
        try
        {
            await _web.CheckAsync(uri, r.Context.RequestAborted);
        }
        catch (WebDownloadRefusedException e)
        {
            throw ApiError.BadRequest($"URI for web-download does not pass filtering: {e.Message}");
        }
        if (!await _store.TransitionAsync(row.Id, "queued", "importing", Now()))
            throw ApiError.Conflict($"Image {row.Id} must be queued for a web-download import (status {row.Status}).");
        row.Status = "importing";
        _ = Task.Run(() => WebDownloadAsync(row, uri));
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task WebDownloadAsync(ImageRow row, string uri)
    {
        try
        {
            using var response = await _web.OpenAsync(uri, CancellationToken.None);
            await using var body = await response.Content.ReadAsStreamAsync();
            var digest = await StoreStreamAsync(body, response.Content.Headers.ContentLength, row, DataContainer, "queued", CancellationToken.None);
            if (Refusal(row, digest.Inspected) is { } refusal)
            {
                await _objects.DeleteLargeAsync(Account, DataContainer, row.Id, CancellationToken.None);
                await BackToQueuedAsync(row, refusal);
                return;
            }
            Activate(row, digest, $"{DataContainer}/{row.Id}");
            await _store.UpdateAsync(row);
            _logger.LogInformation("image {Image} imported by web-download ({Bytes} bytes)", row.Id, digest.Size);
        }
        catch (ApiError e)
        {
            // StoreStreamAsync has put the image back in queued already.
            _logger.LogWarning("image {Image}: web-download failed: {Reason}", row.Id, e.Message);
        }
        catch (Exception e) when (e is WebDownloadRefusedException or HttpRequestException or IOException or OperationCanceledException or ObjectLayerException)
        {
            await BackToQueuedAsync(row, e.Message);
        }
    }

    private async Task BackToQueuedAsync(ImageRow row, string reason)
    {
        row.Status = "queued";
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        _logger.LogWarning("image {Image}: web-download failed: {Reason}", row.Id, reason);
    }
}

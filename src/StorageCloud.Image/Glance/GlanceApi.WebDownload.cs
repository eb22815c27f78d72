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
        var task = await BeginBackgroundImportAsync(r, row, method, "a web-download");
        _ = Task.Run(() => WebDownloadAsync(row, task, uri));
        await ApiResponses.NoContent(r.Context, 202);
    }

    /// <summary>queued → importing, with a task that is processing (409 when the image is not queued).</summary>
    private async Task<ImageTaskRow> BeginBackgroundImportAsync(ApiRequest r, ImageRow row, JsonObject method, string what)
    {
        if (!await _store.TransitionAsync(row.Id, "queued", "importing", Now()))
            throw ApiError.Conflict($"Image {row.Id} must be queued for {what} import (status {row.Status}).");
        row.Status = "importing";
        SetImportState(row, importing: true, failed: false);
        await _store.UpdateAsync(row);
        return await StartTaskAsync(r, row, method);
    }

    /// <summary>
    /// Stores a background import's data as the image's, after the same checks as an upload; <paramref name="imported"/>
    /// (the import's changes to the record, such as glance-download's properties) is applied only if the data is accepted.
    /// </summary>
    private async Task CompleteImportAsync(ImageRow row, ImageTaskRow task, Stream body, long? length, ImageRow judgedAs, Action<ImageRow>? imported = null, string? expectedSha512 = null)
    {
        var digest = await StoreStreamAsync(body, length, row, DataContainer, onFailure: null, CancellationToken.None);
        var refusal = Refusal(judgedAs, digest.Inspected);
        if (refusal is null && expectedSha512 is not null && !string.Equals(expectedSha512, digest.Sha512, StringComparison.OrdinalIgnoreCase))
            refusal = $"the data's SHA-512 is {digest.Sha512}, not the source's {expectedSha512}";
        if (refusal is not null)
        {
            await _objects.DeleteLargeAsync(Account, DataContainer, row.Id, CancellationToken.None);
            await FailImportAsync(row.Id, task, refusal);
            return;
        }
        // The stored record as it is now (it may have been patched meanwhile), if the image is still being imported.
        if (await _store.GetAsync<ImageRow>(row.Id) is not { Status: "importing" } current)
        {
            await _objects.DeleteLargeAsync(Account, DataContainer, row.Id, CancellationToken.None);
            await FailImportAsync(row.Id, task, "the image was deleted or changed while it was imported");
            return;
        }
        imported?.Invoke(current);
        Activate(current, digest, $"{DataContainer}/{row.Id}");
        SetImportState(current, importing: false, failed: false);
        await _store.UpdateAsync(current);
        await FinishTaskAsync(task, success: true, "");
        _logger.LogInformation("image {Image} imported ({Bytes} bytes)", row.Id, digest.Size);
    }

    private async Task WebDownloadAsync(ImageRow row, ImageTaskRow task, string uri)
    {
        using var alive = KeepAlive(task);
        try
        {
            var (client, response) = await _web.OpenAsync(uri, CancellationToken.None);
            using var owner = client;
            using var _ = response;
            await using var body = await response.Content.ReadAsStreamAsync();
            await CompleteImportAsync(row, task, body, response.Content.Headers.ContentLength, row);
        }
        catch (Exception e) when (e is ApiError or WebDownloadRefusedException or HttpRequestException or IOException or OperationCanceledException or ObjectLayerException)
        {
            await FailImportAsync(row.Id, task, e.Message);
        }
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

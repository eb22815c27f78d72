using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Image.Formats;
using StorageCloud.Image.Images;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// Image data: upload (queued → saving → active), download (whole or a range, with Content-MD5), staging and the
/// glance-direct import. Every byte in passes the digests and the format inspector on its way to the object store;
/// data the inspector refuses, or that is not the image's disk_format, never becomes an active image.
/// </summary>
public sealed partial class GlanceApi
{
    /// <summary>The one store, as /v2/info/stores and the image's "stores" name it.</summary>
    public const string StoreId = "storagecloud";

    private void MapData()
    {
        _router.Map("PUT", "/v2/images/{id}/file", UploadAsync);
        _router.Map("GET", "/v2/images/{id}/file", DownloadAsync);
        _router.Map("PUT", "/v2/images/{id}/stage", StageAsync);
        _router.Map("POST", "/v2/images/{id}/import", ImportAsync);
        _router.Map("GET", "/v2/info/import", r => ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
        {
            ["import-methods"] = new JsonObject
            {
                ["description"] = "Import methods available.", ["type"] = "array",
                ["value"] = _settings.WebDownload ? new JsonArray("glance-direct", "web-download", "glance-download") : new JsonArray("glance-direct", "glance-download"),
            },
        }));
        _router.Map("GET", "/v2/info/stores", r => ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
        {
            ["stores"] = new JsonArray(new JsonObject { ["id"] = StoreId, ["description"] = "The StorageCloud object store (replicated by the ring)", ["default"] = true }),
        }));
        _router.Map("GET", "/v2/info/usage", UsageAsync);
    }

    /// <summary>PUT /v2/images/{id}/file: the image's data, streamed into the object store through the inspector.</summary>
    private async Task UploadAsync(ApiRequest r)
    {
        var row = await FindOwnAsync(r, r.Args[0], "upload");
        RequireFormats(row);
        if (!await _store.TransitionAsync(row.Id, "queued", "saving", Now()))
            throw ApiError.Conflict($"Image status transition from {row.Status} to saving is not allowed");
        row.Status = "saving";
        var digest = await StoreDataAsync(r, row, DataContainer, onFailure: "queued");
        if (Refusal(row, digest.Inspected) is { } refusal)
        {
            await _objects.DeleteLargeAsync(Account, DataContainer, row.Id, CancellationToken.None);
            row.Status = "killed";
            row.UpdatedAt = Now();
            await _store.UpdateAsync(row);
            _logger.LogWarning("image {Image} refused at upload: {Reason}", row.Id, refusal);
            throw ApiError.BadRequest($"Image {row.Id} was refused and is killed: {refusal}");
        }
        Activate(row, digest, $"{DataContainer}/{row.Id}");
        await _store.UpdateAsync(row);
        await ApiResponses.NoContent(r.Context, 204);
    }

    /// <summary>PUT /v2/images/{id}/stage: the first half of the glance-direct import (queued → uploading).</summary>
    private async Task StageAsync(ApiRequest r)
    {
        var row = await FindOwnAsync(r, r.Args[0], "upload");
        if (!await _store.TransitionAsync(row.Id, "queued", "uploading", Now()))
            throw ApiError.Conflict($"Image status transition from {row.Status} to uploading is not allowed");
        row.Status = "uploading";
        var digest = await StoreDataAsync(r, row, StagingContainer, onFailure: "queued");
        row.Size = digest.Size;
        row.Checksum = digest.Md5;
        row.OsHashAlgo = "sha512";
        row.OsHashValue = digest.Sha512;
        row.VirtualSize = digest.Inspected.VirtualSize;
        row.StagedFormat = digest.Inspected.Format;
        row.StagedProblem = digest.Inspected.Problem;
        row.Location = $"{StagingContainer}/{row.Id}";
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        await ApiResponses.NoContent(r.Context, 204);
    }

    /// <summary>POST /v2/images/{id}/import: glance-direct makes staged data the image's, after the same checks as an upload.</summary>
    private async Task ImportAsync(ApiRequest r)
    {
        var row = await FindOwnAsync(r, r.Args[0], "import");
        var body = await JsonBody.ReadAsync(r.Context);
        var method = JsonBody.Object(body, "method", "request body");
        var name = JsonBody.String(method, "name", "method");
        switch (name)
        {
            case "glance-direct":
                break;
            case "web-download" when !_settings.WebDownload:
                throw ApiError.BadRequest("Import method web-download is not enabled (Image:WebDownload; docs/images.md).");
            case "web-download":
                await StartWebDownloadAsync(r, row, method);
                return;
            case "glance-download":
                await StartGlanceDownloadAsync(r, row, method);
                return;
            case "copy-image":
                throw ApiError.BadRequest($"Image {row.Id}: copy-image has nothing to do, there is one store and the image is in it.");
            default:
                throw ApiError.BadRequest($"Import method {name} is not valid.");
        }
        RequireFormats(row);
        if (row.Status != "uploading" || row.Location is null)
            throw ApiError.Conflict($"Image {row.Id} has no staged data to import (status {row.Status}).");
        if (!await _store.TransitionAsync(row.Id, "uploading", "importing", Now())) throw ApiError.Conflict($"Image {row.Id} is being imported already.");
        var task = await StartTaskAsync(r, row, method);
        var inspected = new InspectedImage(row.StagedFormat ?? "raw", row.VirtualSize ?? 0, row.StagedProblem);
        if (Refusal(row, inspected) is { } refusal)
        {
            // A failed import leaves the image queued, without the staged data, as Glance's does.
            await _objects.DeleteLargeAsync(Account, StagingContainer, row.Id, CancellationToken.None);
            (row.Status, row.Location, row.Size, row.Checksum, row.OsHashAlgo, row.OsHashValue, row.VirtualSize) = ("queued", null, null, null, null, null, null);
            row.UpdatedAt = Now();
            await _store.UpdateAsync(row);
            _logger.LogWarning("image {Image} refused at import: {Reason}", row.Id, refusal);
            await FinishTaskAsync(task, success: false, refusal);
            throw ApiError.BadRequest($"Image {row.Id} import failed: {refusal}");
        }
        row.Status = "active";
        row.StagedFormat = row.StagedProblem = null;
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        await FinishTaskAsync(task, success: true, "");
        await ApiResponses.NoContent(r.Context, 202);
    }

    private static void RequireFormats(ImageRow row)
    {
        if (row.DiskFormat is null || row.ContainerFormat is null)
            throw ApiError.BadRequest("Properties disk_format, container_format must be set prior to saving data.");
    }

    /// <summary>
    /// Streams the request body into <paramref name="container"/> as a large object through the inspector, within the
    /// size limit and the project's quota; on any failure the data is gone and the image is back in <paramref name="onFailure"/>.
    /// </summary>
    private Task<ImageDigest> StoreDataAsync(ApiRequest r, ImageRow row, string container, string onFailure) =>
        StoreStreamAsync(r.Context.Request.Body, r.Context.Request.ContentLength, row, container, onFailure, r.Context.RequestAborted);

    /// <summary>
    /// Stores <paramref name="body"/> (a request's, or a background import's) as <see cref="StoreDataAsync"/> does; with
    /// no <paramref name="onFailure"/> status the record is left alone on failure.
    /// </summary>
    private async Task<ImageDigest> StoreStreamAsync(Stream body, long? length, ImageRow row, string container, string? onFailure, CancellationToken cancel)
    {
        var room = _settings.MaxBytesPerProject - await _store.BytesOfAsync(row.Owner);
        var limit = Math.Min(_settings.MaxImageBytes, Math.Max(room, 0));
        if (length > limit) await FailAsync(row, onFailure, new ApiError(413, $"Image data of {length} bytes exceeds the {limit} bytes allowed (image size limit or project quota)."));
        using var stream = new InspectingStream(body, limit);
        try
        {
            await _objects.EnsureContainerAsync(Account, container, cancellationToken: cancel);
            await _objects.PutLargeAsync(Account, container, row.Id, stream, new LargeObjectOptions { SegmentSize = _settings.SegmentBytes }, cancel);
        }
        catch (Exception e) when (TooLarge(e))
        {
            await FailAsync(row, onFailure, new ApiError(413, $"Image data exceeds the {limit} bytes allowed (image size limit or project quota)."));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectLayerException or HttpRequestException)
        {
            await FailAsync(row, onFailure, new ApiError(503, $"Image {row.Id}: the data could not be stored: {e.Message}"));
        }
        return stream.Finish();
    }

    /// <summary>True when the size limit stopped the data, however deep the object layer wrapped the exception.</summary>
    private static bool TooLarge(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is ImageTooLargeException) return true;
        return false;
    }

    /// <summary>Puts the image in <paramref name="status"/> (a background import's caller does that itself: null) and throws.</summary>
    private async Task FailAsync(ImageRow row, string? status, ApiError error)
    {
        if (status is null) throw error;
        row.Status = status;
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        throw error;
    }

    /// <summary>Why the data may not become this image, or null: the inspector's problem, or a format other than disk_format.</summary>
    private string? Refusal(ImageRow row, InspectedImage inspected)
    {
        if (inspected.Problem is { } problem) return problem;
        if (!_settings.RequireFormatMatch) return null;
        // Wrapped data (ova, docker, compressed ...) is not a disk image itself; only its safety is judged.
        if (row.ContainerFormat is not ("bare" or "ami" or "ari" or "aki")) return null;
        var expected = row.DiskFormat is "ami" or "ari" or "aki" ? "raw" : row.DiskFormat;
        return inspected.Format == expected || (expected == "raw" && inspected.Format == "iso") ? null
            : $"the data is a {inspected.Format} image, but disk_format is {row.DiskFormat}";
    }

    private static void Activate(ImageRow row, ImageDigest digest, string location)
    {
        row.Status = "active";
        row.Size = digest.Size;
        row.VirtualSize = digest.Inspected.VirtualSize;
        row.Checksum = digest.Md5;
        row.OsHashAlgo = "sha512";
        row.OsHashValue = digest.Sha512;
        row.Location = location;
        row.UpdatedAt = Now();
    }

    private async Task DeleteDataAsync(ImageRow row)
    {
        _cache.Remove(row.Id);
        if (row.Location is not { } location) return;
        var slash = location.IndexOf('/');
        await _objects.DeleteLargeAsync(Account, location[..slash], location[(slash + 1)..], CancellationToken.None);
    }

    /// <summary>GET /v2/images/{id}/file: the data, or one range of it; 204 while there is none.</summary>
    private async Task DownloadAsync(ApiRequest r)
    {
        var row = await FindAsync(r, r.Args[0]);
        if (row.Status == "deactivated" && !Me(r).IsAdmin)
            throw Forbidden("The requested image has been deactivated. Image data download is forbidden.");
        if (row.Status != "active" && row.Status != "deactivated" || row.Location is null || row.Size is not { } size)
        {
            await ApiResponses.NoContent(r.Context, 204);
            return;
        }
        var range = Range(r.Context.Request.Headers.Range.ToString(), size);
        var response = r.Context.Response;
        response.ContentType = "application/octet-stream";
        if (row.Checksum is { } md5 && range is null) response.Headers["Content-MD5"] = md5;
        if (range is { } served)
        {
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {served.First}-{served.Last}/{size}";
            response.ContentLength = served.Last - served.First + 1;
        }
        else
        {
            response.StatusCode = 200;
            response.ContentLength = size;
        }
        using (var cached = row.Checksum is { } sum ? _cache.Open(row.Id, sum, size) : null)
        {
            if (cached is not null)
            {
                var (first, last) = range ?? (0, size - 1);
                try
                {
                    await cached.CopyToAsync(first, last, response.Body, r.Context.RequestAborted);
                    return;
                }
                catch (ImageCacheDamagedException e) when (!response.HasStarted)
                {
                    // Nothing was sent yet: the object store answers instead (mid-way, the connection just fails).
                    _logger.LogWarning("{Reason}", e.Message);
                }
            }
        }
        if (range is null && _cache.Enabled)
        {
            _cache.Queue(row.Id);
            KickPrefetcher();
        }
        var slash = row.Location.IndexOf('/');
        await using var reader = await _objects.GetAsync(Account, row.Location[..slash], row.Location[(slash + 1)..], range, r.Context.RequestAborted);
        await reader.Body.CopyToAsync(response.Body, 1 << 20, r.Context.RequestAborted);
    }

    /// <summary>One byte range ("bytes=a-b", "bytes=a-", "bytes=-n") clamped to the data; null for none; 416 when unsatisfiable.</summary>
    private static (long First, long Last)? Range(string header, long size)
    {
        if (string.IsNullOrEmpty(header)) return null;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(','))
            throw new ApiError(416, $"Invalid Range header: {header} (one range of bytes is served)");
        var spec = header[6..];
        var dash = spec.IndexOf('-');
        long first, last;
        if (dash == 0 && long.TryParse(spec[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var suffix) && suffix > 0)
            (first, last) = (Math.Max(size - suffix, 0), size - 1);
        else if (dash > 0 && long.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out first))
            last = dash == spec.Length - 1 ? size - 1 : long.TryParse(spec[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l >= first ? Math.Min(l, size - 1) : -1;
        else throw new ApiError(416, $"Invalid Range header: {header}");
        if (last < 0 || first >= size) throw new ApiError(416, $"Requested range {header} is not satisfiable: the image has {size} bytes.");
        return (first, last);
    }

    private async Task UsageAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var mine = await _store.ListAsync<ImageRow>(("owner", Project(r)));
        long stored = 0, staged = 0;
        var uploading = 0;
        foreach (var image in mine)
        {
            if (image.Status is "uploading" or "importing") { staged += image.Size ?? 0; uploading++; }
            else stored += image.Size ?? 0;
        }
        static JsonObject Limit(long limit, long usage) => new() { ["limit"] = limit, ["usage"] = usage };
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
        {
            ["usage"] = new JsonObject
            {
                ["image_size_total"] = Limit(_settings.MaxBytesPerProject >> 20, (stored + staged) >> 20),
                ["image_stage_total"] = Limit(_settings.MaxBytesPerProject >> 20, staged >> 20),
                ["image_count_total"] = Limit(_settings.MaxImagesPerProject, mine.Count),
                ["image_count_uploading"] = Limit(_settings.MaxImagesPerProject, uploading),
            },
        });
    }
}

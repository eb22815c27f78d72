using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Image.Images;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// Glance's cache API (2.14, admins only): list the node's cached and queued images, queue an active image for the
/// prefetcher, drop one, or clear the cache and the queue. Off (404) unless Image:CacheMaxBytes is set. A whole-image
/// download of an uncached image queues it too, so a popular image is read from this node's disk from then on.
/// </summary>
public sealed partial class GlanceApi
{
    private readonly SemaphoreSlim _prefetching = new(1, 1);

    private void MapCache()
    {
        _router.Map("GET", "/v2/cache", CacheListAsync);
        _router.Map("PUT", "/v2/cache/{id}", CacheQueueAsync);
        _router.Map("DELETE", "/v2/cache/{id}", r => CacheDropAsync(r, r.Args[0]));
        _router.Map("DELETE", "/v2/cache", r => CacheDropAsync(r, null));
    }

    private void RequireCacheAdmin(ApiRequest r)
    {
        if (!_cache.Enabled) throw ApiError.NotFound("The image cache is not enabled on this node (Image:CacheMaxBytes).");
        if (!Me(r).IsAdmin) throw Forbidden("You are not authorized to manage the image cache (admins only).");
    }

    private async Task CacheListAsync(ApiRequest r)
    {
        RequireCacheAdmin(r);
        var cached = new JsonArray();
        foreach (var image in _cache.List())
            cached.Add(new JsonObject
            {
                ["image_id"] = image.ImageId,
                ["hits"] = image.Hits,
                ["last_accessed"] = image.LastAccessed.ToUnixTimeMilliseconds() / 1000.0,
                ["last_modified"] = image.LastModified.ToUnixTimeMilliseconds() / 1000.0,
                ["size"] = image.Size,
            });
        var queued = new JsonArray();
        foreach (var id in _cache.Queued()) queued.Add(id);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["cached_images"] = cached, ["queued_images"] = queued });
    }

    private async Task CacheQueueAsync(ApiRequest r)
    {
        RequireCacheAdmin(r);
        var row = await FindAsync(r, r.Args[0]);
        if (row.Status != "active") throw ApiError.BadRequest($"Only images with status active can be targeted for queueing (image {row.Id} is {row.Status}).");
        _cache.Queue(row.Id);
        KickPrefetcher();
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task CacheDropAsync(ApiRequest r, string? imageId)
    {
        RequireCacheAdmin(r);
        if (imageId is not null)
        {
            if (Guid.TryParse(imageId, out var guid)) _cache.Remove(guid.ToString("D"));
        }
        else
        {
            var target = r.Context.Request.Headers["x-image-cache-clear-target"].ToString();
            if (target is not ("" or "cache" or "queue"))
                throw ApiError.BadRequest($"If provided, x-image-cache-clear-target must be 'cache', 'queue' or empty (both), not '{target}'.");
            _cache.Clear(cache: target is "" or "cache", queue: target is "" or "queue");
        }
        await ApiResponses.NoContent(r.Context, 204);
    }

    /// <summary>Starts a prefetcher pass now unless one is running (the daemon's passes cover a restart).</summary>
    private void KickPrefetcher() => _ = Task.Run(() => PrefetchQueuedAsync(CancellationToken.None));

    /// <summary>The prefetcher's pass: copies each queued image still active into the cache, until the queue is empty.</summary>
    public async Task PrefetchQueuedAsync(CancellationToken cancellationToken)
    {
        // An image queued while a pass ends is taken by the pass's last look or by the next loop here.
        while (_cache.Enabled && _cache.Queued().Count > 0)
        {
            if (!await _prefetching.WaitAsync(0, cancellationToken)) return;
            try
            {
                List<string> queued;
                while ((queued = _cache.Queued()).Count > 0)
                    foreach (var id in queued) await PrefetchAsync(id, cancellationToken);
            }
            finally
            {
                _prefetching.Release();
            }
        }
    }

    private async Task PrefetchAsync(string id, CancellationToken cancellationToken)
    {
        var row = await _store.GetAsync<ImageRow>(id);
        if (row is not { Status: "active", Location: { } location, Checksum: { } md5, Size: { } size })
        {
            _cache.Remove(id);
            return;
        }
        try
        {
            var slash = location.IndexOf('/');
            await using var reader = await _objects.GetAsync(Account, location[..slash], location[(slash + 1)..], null, cancellationToken);
            await _cache.FillAsync(id, md5, size, reader.Body, cancellationToken);
            _logger.LogInformation("image {Image} cached ({Bytes} bytes)", id, size);
        }
        catch (Exception e) when (e is IOException or ObjectLayerException or HttpRequestException)
        {
            _cache.Remove(id);
            _logger.LogWarning("image {Image} could not be cached: {Reason}", id, e.Message);
        }
    }
}

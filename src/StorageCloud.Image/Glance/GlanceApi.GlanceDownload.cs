using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using StorageCloud.Image.Images;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// The glance-download import: the image's data and some of its metadata come from an image in another region's
/// image service (or this one's), found in the caller's service catalog and read with the caller's token, so the caller
/// can only copy what they may read there. The URL is the catalog's, never the request's. Like web-download it answers
/// 202 and works in the background under a task; failure leaves the image queued with its own metadata untouched.
/// </summary>
public sealed partial class GlanceApi
{
    private async Task StartGlanceDownloadAsync(ApiRequest r, ImageRow row, JsonObject method)
    {
        var remoteId = JsonBody.String(method, "glance_image_id", "method");
        if (!Guid.TryParse(remoteId, out var remoteGuid))
            throw ApiError.BadRequest($"Requested image id does not look like a UUID: {remoteId}");
        var region = JsonBody.String(method, "glance_region", "method");
        var endpointInterface = JsonBody.OptionalString(method, "glance_service_interface", "method") ?? "public";
        var token = r.Context.Request.Headers["X-Auth-Token"].ToString();
        var task = await BeginBackgroundImportAsync(r, row, method, "a glance-download");
        _ = Task.Run(() => GlanceDownloadAsync(row, task, token, remoteGuid.ToString("D"), region, endpointInterface));
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task GlanceDownloadAsync(ImageRow row, ImageTaskRow task, string token, string remoteId, string region, string endpointInterface)
    {
        using var alive = KeepAlive(task);
        try
        {
            var endpoint = await ImageEndpointAsync(token, region, endpointInterface)
                ?? throw new GlanceDownloadException($"the service catalog has no {endpointInterface} image endpoint in region {region}");
            var remote = await RemoteImageAsync(endpoint, token, remoteId);
            var judgedAs = new ImageRow { DiskFormat = remote["disk_format"]?.GetValue<string>(), ContainerFormat = remote["container_format"]?.GetValue<string>() };
            if (judgedAs.DiskFormat is null || judgedAs.ContainerFormat is null)
                throw new GlanceDownloadException($"image {remoteId} in region {region} has no disk_format or container_format");
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/v2/images/{remoteId}/file");
            request.Headers.Add("X-Auth-Token", token);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new GlanceDownloadException($"image {remoteId}'s data in region {region}: {(int)response.StatusCode} {response.ReasonPhrase}");
            await using var body = await response.Content.ReadAsStreamAsync();
            await CompleteImportAsync(row, task, body, response.Content.Headers.ContentLength, judgedAs, image => TakeRemoteMetadata(image, remote),
                remote["os_hash_algo"]?.GetValue<string>() == "sha512" ? remote["os_hash_value"]?.GetValue<string>() : null);
        }
        catch (Exception e) when (e is ApiError or GlanceDownloadException or HttpRequestException or IOException or OperationCanceledException
                                      or ObjectLayerException or System.Text.Json.JsonException or InvalidOperationException)
        {
            await FailImportAsync(row.Id, task, e.Message);
        }
    }

    /// <summary>The formats and the properties <see cref="ImageSettings.GlanceDownloadProperties"/> names (never os_glance_ ones).</summary>
    private void TakeRemoteMetadata(ImageRow image, JsonObject remote)
    {
        image.DiskFormat = remote["disk_format"]!.GetValue<string>();
        image.ContainerFormat = remote["container_format"]!.GetValue<string>();
        var properties = PropertiesOf(image);
        foreach (var (key, value) in remote)
        {
            if (key.StartsWith("os_glance", StringComparison.Ordinal) || value is not JsonValue v || !v.TryGetValue<string>(out var text)) continue;
            foreach (var pattern in _settings.GlanceDownloadProperties)
            {
                var matches = pattern.EndsWith('*') ? key.StartsWith(pattern[..^1], StringComparison.Ordinal) : key == pattern;
                if (!matches) continue;
                properties[key] = text;
                break;
            }
        }
        image.Properties = properties.ToJsonString();
    }

    /// <summary>The image service's URL in the caller's catalog for the region and interface, or null.</summary>
    private async Task<string?> ImageEndpointAsync(string token, string region, string endpointInterface)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_settings.IdentityUrl}/auth/catalog");
        request.Headers.Add("X-Auth-Token", token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await _http.SendAsync(request, timeout.Token);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new GlanceDownloadException($"the identity service did not give the catalog: {(int)response.StatusCode} {response.ReasonPhrase}");
        var catalog = (await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token))?["catalog"] as JsonArray ?? [];
        foreach (var service in catalog)
        {
            if (service?["type"]?.GetValue<string>() != "image" || service["endpoints"] is not JsonArray endpoints) continue;
            foreach (var endpoint in endpoints)
                if (endpoint?["interface"]?.GetValue<string>() == endpointInterface
                    && (endpoint["region_id"]?.GetValue<string>() == region || endpoint["region"]?.GetValue<string>() == region))
                    return endpoint["url"]?.GetValue<string>()?.TrimEnd('/');
        }
        return null;
    }

    private async Task<JsonObject> RemoteImageAsync(string endpoint, string token, string remoteId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/v2/images/{remoteId}");
        request.Headers.Add("X-Auth-Token", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await _http.SendAsync(request, timeout.Token);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new GlanceDownloadException($"image {remoteId} at {endpoint}: {(int)response.StatusCode} {response.ReasonPhrase}");
        var image = await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token) as JsonObject
            ?? throw new GlanceDownloadException($"image {remoteId} at {endpoint}: not a JSON object");
        if (image["status"]?.GetValue<string>() != "active")
            throw new GlanceDownloadException($"image {remoteId} at {endpoint} is {image["status"]}, not active");
        return image;
    }

    private sealed class GlanceDownloadException(string message) : Exception(message);
}

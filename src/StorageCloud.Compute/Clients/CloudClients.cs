using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Clients;

/// <summary>What another service answered: its status and JSON body (null when it had none).</summary>
public readonly record struct ServiceAnswer(HttpStatusCode Status, JsonObject? Body)
{
    /// <summary>True for 2xx.</summary>
    public bool Ok => (int)Status is >= 200 and < 300;
}

/// <summary>
/// The network, volume and image services as Nova reaches them: over their public APIs, with the caller's own token,
/// so a server can only use the networks, volumes and images its project may use.
/// </summary>
public sealed class CloudClients(ComputeSettings settings, HttpClient http)
{
    /// <summary>The HTTP client (for streamed image copies).</summary>
    public HttpClient Http => http;

    /// <summary>The image service's base URL; 400 when there is none.</summary>
    public string ImageUrl => settings.ImageUrl ?? throw ApiError.BadRequest("There is no image service to boot from (Compute:ImageUrl).");

    /// <summary>The network service's base URL, or null.</summary>
    public string? NetworkUrl => settings.NetworkUrl;

    /// <summary>The volume service's base URL for a project; 400 when there is none.</summary>
    public string VolumeUrl(string project) =>
        (settings.VolumeUrl ?? throw ApiError.BadRequest("There is no volume service to attach volumes from (Compute:VolumeUrl).")) + "/v3/" + project;

    /// <summary>Sends one JSON request with the token; a service that cannot be reached is a 503.</summary>
    public async Task<ServiceAnswer> SendAsync(HttpMethod method, string url, string token, JsonNode? body = null, string? microversion = null,
        CancellationToken cancellationToken = default, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Auth-Token", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (microversion is not null) request.Headers.Add("OpenStack-API-Version", microversion);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonObject? parsed = null;
            if (text.Length > 0)
            {
                try
                {
                    parsed = JsonNode.Parse(text) as JsonObject;
                }
                catch (System.Text.Json.JsonException)
                {
                    parsed = null;
                }
            }
            return new ServiceAnswer(response.StatusCode, parsed);
        }
        catch (HttpRequestException e)
        {
            throw new ApiError(503, $"A service the compute service needs cannot be reached ({new Uri(url).Authority}): {e.Message}");
        }
    }

    /// <summary>The image as the caller sees it, or null when it does not exist for the caller.</summary>
    public async Task<JsonObject?> ImageAsync(string token, string id, CancellationToken cancellationToken = default)
    {
        if (!Guid.TryParse(id, out var guid)) return null;
        var answer = await SendAsync(HttpMethod.Get, $"{ImageUrl}/v2/images/{guid:D}", token, cancellationToken: cancellationToken);
        return answer.Ok ? answer.Body : null;
    }

    /// <summary>GET on the network service (/v2.0 + path); null when there is no network service or it answers 404.</summary>
    public async Task<JsonObject?> NetworkGetAsync(string token, string pathAndQuery, CancellationToken cancellationToken = default)
    {
        if (NetworkUrl is null) return null;
        var answer = await SendAsync(HttpMethod.Get, $"{NetworkUrl}/v2.0{pathAndQuery}", token, cancellationToken: cancellationToken);
        if (answer.Status == HttpStatusCode.NotFound) return null;
        return answer.Ok ? answer.Body : throw Failed("network", answer);
    }

    /// <summary>A write to the network service; its error becomes ours with the same status.</summary>
    public async Task<JsonObject?> NetworkSendAsync(HttpMethod method, string token, string path, JsonNode? body = null, CancellationToken cancellationToken = default)
    {
        if (NetworkUrl is null) throw ApiError.BadRequest("There is no network service to give the server a port (Compute:NetworkUrl).");
        var answer = await SendAsync(method, $"{NetworkUrl}/v2.0{path}", token, body, cancellationToken: cancellationToken);
        return answer.Ok ? answer.Body : throw Failed("network", answer);
    }

    /// <summary>A request to the volume service at the microversion attachments need (3.44).</summary>
    public Task<ServiceAnswer> VolumeSendAsync(HttpMethod method, string token, string project, string path, JsonNode? body = null,
        CancellationToken cancellationToken = default) =>
        SendAsync(method, VolumeUrl(project) + path, token, body, "volume 3.44", cancellationToken);

    /// <summary>The other service's error as ours: its status and its message.</summary>
    public static ApiError Failed(string service, ServiceAnswer answer)
    {
        var message = MessageOf(answer.Body) ?? $"The {service} service answered {(int)answer.Status}.";
        var status = (int)answer.Status is >= 400 and < 500 ? (int)answer.Status : 503;
        return new ApiError(status, message);
    }

    /// <summary>The message of an OpenStack error body, whatever its shape.</summary>
    public static string? MessageOf(JsonObject? body)
    {
        if (body is null) return null;
        if (body["NeutronError"] is JsonObject n) return n["message"]?.ToString();
        foreach (var (_, value) in body)
            if (value is JsonObject fault && fault["message"] is JsonValue m) return m.ToString();
        return body["message"]?.ToString();
    }
}

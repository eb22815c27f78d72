namespace StorageCloud.LoadGen;

/// <summary>A Swift endpoint: v1 auth (or a given token and storage URL).</summary>
public sealed class SwiftTarget : LoadTarget
{
    private SwiftTarget(HttpClient http, string storageUrl, string token) : base(http)
    {
        StorageUrl = storageUrl.TrimEnd('/');
        Token = token;
    }

    /// <summary>The account URL requests go to.</summary>
    public string StorageUrl { get; }

    /// <summary>The auth token sent with every request.</summary>
    public string Token { get; }

    /// <summary>Connects with v1 auth (user and key) or with a token and storage URL given outright.</summary>
    public static async Task<SwiftTarget> ConnectAsync(string? authUrl, string? user, string? key, string? storageUrl, string? token, int connections)
    {
        var http = CreateClient(connections);
        if (storageUrl is not null && token is not null) return new SwiftTarget(http, storageUrl, token);
        if (authUrl is null || user is null || key is null) throw new ArgumentException("give --auth-url, --user and --key, or --storage-url and --token");
        using var request = new HttpRequestMessage(HttpMethod.Get, authUrl);
        request.Headers.Add("X-Auth-User", user);
        request.Headers.Add("X-Auth-Key", key);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"auth failed: {(int)response.StatusCode}");
        return new SwiftTarget(http, response.Headers.GetValues("X-Storage-Url").First(), response.Headers.GetValues("X-Auth-Token").First());
    }

    /// <inheritdoc />
    protected override Uri UrlOf(string container, string? name, string? query) =>
        new($"{StorageUrl}/{Uri.EscapeDataString(container)}{(name is null ? "" : "/" + Uri.EscapeDataString(name))}{(query is null ? "" : "?" + query)}");

    /// <inheritdoc />
    protected override void Authorize(HttpRequestMessage request) => request.Headers.TryAddWithoutValidation("X-Auth-Token", Token);

    /// <inheritdoc />
    public override string ListQuery(int limit) => $"limit={limit}";
}

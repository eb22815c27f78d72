using System.Net;
using System.Text;

namespace StorageCloud.Host.Tests;

/// <summary>
/// Hostile JSON and paths at every OpenStack API of the appliance (identity, volume, compute, network, image): bodies
/// that are empty, cut short, nested 100,000 deep, not UTF-8, of the wrong types, with NUL, huge or negative numbers;
/// ids that are NUL, traversal, invalid UTF-8 or 5,000 characters; paging with nonsense limits and markers. Every
/// answer is a 4xx or a 2xx, never a 5xx (a null server name was once a 500), and the services keep answering.
/// </summary>
public sealed class ApiHostileInputTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private static readonly byte[][] Bodies =
    [
        [], "{"u8.ToArray(), "[]"u8.ToArray(), "null"u8.ToArray(), "\"x\""u8.ToArray(), [.. "{\"a\":"u8, .. Enumerable.Repeat((byte)'[', 100_000)],
        "{\"x\":\"\\u0000\"}"u8.ToArray(), [0xff, 0xfe, 0x7b], "{\"volume\":{\"size\":-1}}"u8.ToArray(), "{\"volume\":{\"size\":1e300}}"u8.ToArray(),
        Encoding.UTF8.GetBytes($"{{\"volume\":{{\"size\":\"1\",\"name\":\"{new string('x', 100_000)}\"}}}}"), "{\"server\":{\"name\":null}}"u8.ToArray(),
        "{\"server\":{\"name\":\"x\",\"flavorRef\":{},\"imageRef\":[]}}"u8.ToArray(), "{\"network\":{\"name\":[\"a\"]}}"u8.ToArray(), "{\"image\":1}"u8.ToArray(),
        "{\"user\":{\"name\":{\"a\":1}}}"u8.ToArray(), "{\"auth\":{\"identity\":{\"methods\":[null]}}}"u8.ToArray(),
    ];

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string url, byte[]? body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, new Uri(url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        request.Headers.Add("X-Auth-Token", cloud.Admin.Token);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        using var response = await cloud.Http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task No_api_answers_hostile_json_or_paths_with_a_server_error()
    {
        var project = cloud.Admin.Project;
        var identity = $"http://127.0.0.1:{cloud.IdentityPort}/v3";
        var volume = $"{cloud.VolumeUrl}/v3/{project}";
        var compute = $"{cloud.ComputeUrl}/v2.1";
        var network = $"{cloud.NetworkUrl}/v2.0";
        var image = $"{cloud.ImageUrl}/v2";
        var zero = Guid.Empty.ToString();
        (string Method, string Url)[] creates =
        [
            ("POST", $"{volume}/volumes"), ("POST", $"{volume}/snapshots"), ("POST", $"{volume}/backups"), ("POST", $"{volume}/os-volume-transfer"),
            ("POST", $"{compute}/servers"), ("POST", $"{compute}/os-keypairs"), ("POST", $"{compute}/flavors"), ("PUT", $"{compute}/os-quota-sets/{project}"),
            ("POST", $"{compute}/servers/{zero}/action"), ("POST", $"{network}/networks"), ("POST", $"{network}/subnets"), ("POST", $"{network}/ports"),
            ("POST", $"{network}/security-group-rules"), ("POST", $"{network}/floatingips"), ("POST", $"{image}/images"), ("PATCH", $"{image}/images/{zero}"),
            ("POST", $"{identity}/users"), ("POST", $"{identity}/projects"), ("POST", $"{identity}/auth/tokens"),
        ];
        var failures = new List<string>();
        foreach (var (method, url) in creates)
            foreach (var body in Bodies)
            {
                var status = await SendAsync(new HttpMethod(method), url, body, method == "PATCH" ? "application/openstack-images-v2.1-json-patch" : "application/json");
                if ((int)status >= 500) failures.Add($"{method} {url} with {Encoding.UTF8.GetString(body[..Math.Min(body.Length, 40)])}: {(int)status}");
            }
        string[] paths =
        [
            "/volumes/%00", "/volumes/..%2f..", "/servers/" + new string('a', 5000), "/networks/%ff", "/images/%ff", "/users/%00", string.Concat(Enumerable.Repeat("/x", 200)),
            "/volumes/detail?limit=-1", "/volumes/detail?limit=abc&marker=%ff", "/servers/detail?limit=99999999999999999999", "/images?limit=-5&sort=name:evil",
            "/networks?fields=%00&sort_key=x;drop", "/projects?name=%ff",
        ];
        foreach (var api in new[] { volume, compute, network, image, identity })
            foreach (var path in paths)
                foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete, HttpMethod.Put })
                {
                    var status = await SendAsync(method, api + path, method == HttpMethod.Put ? "{}"u8.ToArray() : null);
                    if ((int)status >= 500) failures.Add($"{method} {(api + path)[..Math.Min(api.Length + path.Length, 100)]}: {(int)status}");
                }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        foreach (var api in new[] { $"{volume}/volumes", $"{compute}/servers", $"{network}/networks", $"{image}/images", $"{identity}/projects" })
            Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, api, null));
    }
}

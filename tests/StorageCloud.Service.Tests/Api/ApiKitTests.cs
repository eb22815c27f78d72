using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using StorageCloud.Service.Api;

namespace StorageCloud.Service.Tests.Api;

/// <summary>The OpenStack API kit: routes, error bodies in each reference's shape, microversions and paging.</summary>
public sealed class ApiKitTests
{
    private static DefaultHttpContext Context(string method, string path, string query = "", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("api.example", 8776);
        foreach (var (name, value) in headers) context.Request.Headers.Append(name, value);
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static (int Status, string Type, string Body) Answer(HttpContext context)
    {
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, context.Response.ContentType ?? "", new StreamReader(context.Response.Body).ReadToEnd());
    }

    [Fact]
    public async Task Routes_match_by_segment_answer_404_and_405_in_the_apis_shape_and_decode_arguments()
    {
        var router = new ApiRouter<ApiRequest>(ApiErrorFormat.VolumeFault, (c, a) => new ApiRequest(c, a), NullLogger.Instance);
        router.Map("GET", "/v3/{project}/volumes/{id}", r => ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["id"] = r.Args[1] }));
        router.Map("DELETE", "/v3/{project}/volumes/{id}", _ => throw ApiError.Conflict("Volume is in use."));

        var ok = Context("GET", "/v3/p/volumes/a%20b");
        await router.HandleAsync(ok);
        Assert.Equal((200, "application/json", """{"id":"a b"}"""), Answer(ok));
        var head = Context("HEAD", "/v3/p/volumes/x");
        await router.HandleAsync(head);
        Assert.Equal(200, head.Response.StatusCode);
        Assert.Equal(0, head.Response.Body.Length);

        var missing = Context("GET", "/v3/p/nothing");
        await router.HandleAsync(missing);
        Assert.Equal((404, "application/json", """{"itemNotFound":{"code":404,"message":"The resource could not be found."}}"""), Answer(missing));
        var method = Context("POST", "/v3/p/volumes/x");
        await router.HandleAsync(method);
        Assert.Equal(405, method.Response.StatusCode);
        Assert.Contains("badMethod", Answer(method).Body);
        var conflict = Context("DELETE", "/v3/p/volumes/x");
        await router.HandleAsync(conflict);
        Assert.Equal((409, "application/json", """{"conflictingRequest":{"code":409,"message":"Volume is in use."}}"""), Answer(conflict));
    }

    [Fact]
    public async Task Each_reference_writes_its_own_error_body()
    {
        async Task<(int, string, string)> Write(ApiErrorFormat format, ApiError error, params (string, string)[] headers)
        {
            var context = Context("GET", "/x", "", headers);
            await format.WriteAsync(context, error);
            var (status, type, body) = Answer(context);
            return (status, type, body + (context.Response.Headers.WWWAuthenticate.ToString() is { Length: > 0 } w ? " | " + w : ""));
        }
        Assert.Equal((429, "application/json; charset=UTF-8", """{"overLimit":{"code":429,"message":"slow down"}}"""), await Write(ApiErrorFormat.ComputeFault, new ApiError(429, "slow down")));
        Assert.Equal((429, "application/json", """{"computeFault":{"code":429,"message":"slow down"}}"""), await Write(ApiErrorFormat.VolumeFault, new ApiError(429, "slow down")));
        Assert.Equal((401, "application/json",
            """{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}} | Keystone uri="http://api.example:8776/v3" """.TrimEnd()),
            await Write(ApiErrorFormat.Keystone, ApiError.Unauthorized()));
        Assert.Equal((404, "application/json", """{"NeutronError":{"type":"NetworkNotFound","message":"Network n could not be found.","detail":""}}"""),
            await Write(ApiErrorFormat.Neutron, new ApiError(404, "Network n could not be found.") { Kind = "NetworkNotFound" }));
        Assert.Equal((404, "text/plain; charset=UTF-8", "404 Not Found\n\nNo image found with ID i\n\n   "), await Write(ApiErrorFormat.Glance, ApiError.NotFound("No image found with ID i")));
        var json = await Write(ApiErrorFormat.Glance, ApiError.NotFound("No image found with ID i"), ("Accept", "application/json"));
        Assert.Equal("404 Not Found", JsonNode.Parse(json.Item3)!["code"]!.GetValue<string>());
    }

    [Fact]
    public void Microversions_are_negotiated_as_nova_and_cinder_do()
    {
        var volume = new Microversions("volume", new ApiVersion(3, 0), new ApiVersion(3, 60));
        Assert.Equal(new ApiVersion(3, 0), volume.Negotiate(Context("GET", "/")));
        var latest = Context("GET", "/", "", ("OpenStack-API-Version", "volume latest"));
        Assert.Equal(new ApiVersion(3, 60), volume.Negotiate(latest));
        Assert.Equal("volume 3.60", latest.Response.Headers["OpenStack-API-Version"].ToString());
        Assert.Equal("OpenStack-API-Version", latest.Response.Headers.Vary.ToString());
        Assert.Equal(new ApiVersion(3, 27), volume.Negotiate(Context("GET", "/", "", ("OpenStack-API-Version", "compute 2.1, volume 3.27"))));
        Assert.Equal(400, Assert.Throws<ApiError>(() => volume.Negotiate(Context("GET", "/", "", ("OpenStack-API-Version", "volume 3.x")))).Status);
        var tooNew = Assert.Throws<ApiError>(() => volume.Negotiate(Context("GET", "/", "", ("OpenStack-API-Version", "volume 3.61"))));
        Assert.Equal((406, "Version 3.61 is not supported by the API. Minimum is 3.0 and maximum is 3.60."), (tooNew.Status, tooNew.Message));

        var compute = new Microversions("compute", new ApiVersion(2, 1), new ApiVersion(2, 79), "X-OpenStack-Nova-API-Version");
        var legacy = Context("GET", "/", "", ("X-OpenStack-Nova-API-Version", "2.10"));
        Assert.Equal(new ApiVersion(2, 10), compute.Negotiate(legacy));
        Assert.Equal("2.10", legacy.Response.Headers["X-OpenStack-Nova-API-Version"].ToString());
        Assert.Equal(new ApiVersion(2, 10), compute.Of(legacy));
        Assert.Equal(400, Assert.Throws<ApiError>(() => compute.Negotiate(Context("GET", "/", "", ("OpenStack-API-Version", "compute 02.1")))).Status);
    }

    [Fact]
    public void Pages_follow_the_marker_and_link_to_the_next_page()
    {
        var items = Enumerable.Range(1, 5).Select(i => $"id{i}").ToList();
        var request = Context("GET", "/v3/p/volumes", "?limit=2&status=available&marker=id1").Request;
        var limit = Pagination.Limit(request, 1000);
        var (page, more) = Pagination.Page(items, x => x, request.Query["marker"], limit, m => ApiError.NotFound($"Volume {m} could not be found."));
        Assert.Equal(["id2", "id3"], page);
        Assert.True(more);
        Assert.Equal("http://api.example:8776/v3/p/volumes?limit=2&status=available&marker=id3",
            Pagination.NextLinks(request, "http://api.example:8776", page[^1])[0]!["href"]!.GetValue<string>());
        var (last, lastMore) = Pagination.Page(items, x => x, "id4", 2, m => ApiError.NotFound(m));
        Assert.Equal(["id5"], last);
        Assert.False(lastMore);
        Assert.Equal(404, Assert.Throws<ApiError>(() => Pagination.Page(items, x => x, "nope", 2, m => ApiError.NotFound(m))).Status);
        Assert.Equal("limit param must be an integer", Assert.Throws<ApiError>(() => Pagination.Limit(Context("GET", "/", "?limit=abc").Request, 10)).Message);
        Assert.Equal("limit param must be positive", Assert.Throws<ApiError>(() => Pagination.Limit(Context("GET", "/", "?limit=-1").Request, 10)).Message);
        Assert.Equal(10, Pagination.Limit(Context("GET", "/", "?limit=5000").Request, 10));

        string[] allowed = ["name", "size", "created_at"];
        var fallback = new SortKey("created_at", true);
        Assert.Equal([new SortKey("name", false), new SortKey("size", true)], Pagination.Sort(Context("GET", "/", "?sort=name:asc,size").Request, allowed, fallback));
        Assert.Equal([new SortKey("size", false)], Pagination.Sort(Context("GET", "/", "?sort_key=size&sort_dir=asc").Request, allowed, fallback));
        Assert.Equal([fallback], Pagination.Sort(Context("GET", "/").Request, allowed, fallback));
        Assert.Equal(400, Assert.Throws<ApiError>(() => Pagination.Sort(Context("GET", "/", "?sort=name&sort_key=size").Request, allowed, fallback)).Status);
        Assert.Equal(400, Assert.Throws<ApiError>(() => Pagination.Sort(Context("GET", "/", "?sort=secret").Request, allowed, fallback)).Status);
    }
}

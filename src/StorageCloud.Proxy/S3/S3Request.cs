using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Proxy.Middleware;

namespace StorageCloud.Proxy.S3;

/// <summary>What a Swift sub-request answered: status, headers and (when captured) its body.</summary>
public sealed record SwiftAnswer(int Status, IHeaderDictionary Headers, byte[] Body)
{
    /// <summary>True for 2xx.</summary>
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>A header's value, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var v) && v.Count > 0 ? v.ToString() : null;
}

/// <summary>
/// One S3 request once authenticated: the caller, the bucket and key it names, and the way to act on them, which is
/// always a Swift sub-request through the rest of the proxy's pipeline, as the caller.
/// </summary>
public sealed class S3Request(HttpContext context, S3Principal principal, RequestDelegate next, string? bucket, string? key)
{
    /// <summary>The client's exchange.</summary>
    public HttpContext Context { get; } = context;

    /// <summary>Who is asking.</summary>
    public S3Principal Principal { get; } = principal;

    /// <summary>The bucket, or null for the service (GET /).</summary>
    public string? Bucket { get; } = bucket;

    /// <summary>The object key, or null for bucket requests.</summary>
    public string? Key { get; } = key;

    /// <summary>The request's verified signature (its payload hash, date and scope).</summary>
    public required SignedRequest Signed { get; init; }

    /// <summary>The SigV4 signing key, for streaming uploads whose chunks are signed too.</summary>
    public required byte[] SigningKey { get; init; }

    /// <summary>The global bucket names.</summary>
    public required BucketRegistry Registry { get; init; }

    /// <summary>The cluster, for its cached container info (bucket settings read on every write); null in sub-contexts that have none.</summary>
    public StorageCloud.ObjectLayer.Cluster? Cluster { get; init; }

    /// <summary>A query parameter, or null when absent.</summary>
    public string? Query(string name) => Context.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

    /// <summary>True when the query has the parameter (with or without a value).</summary>
    public bool Has(string name) => Context.Request.Query.ContainsKey(name);

    /// <summary>The Swift path of a container or object of the caller's account (quoted), with an optional query.</summary>
    public string SwiftPath(string container, string? obj = null, string query = "")
    {
        var path = $"/v1/{Principal.Account}/{Uri.EscapeDataString(container)}";
        if (obj is not null) path += "/" + StorageCloud.Proxy.SwiftPath.QuoteKeepSlash(obj);
        return query.Length == 0 ? path : path + "?" + query;
    }

    /// <summary>Runs a Swift sub-request and captures its body (for listings and small answers).</summary>
    /// <param name="preAuthorized">Skips Swift's authorization for the request's bucket (only for an object whose own ACL the caller has checked).</param>
    public async Task<SwiftAnswer> SwiftAsync(string method, string path, IEnumerable<KeyValuePair<string, string>>? headers = null,
        Stream? body = null, long? contentLength = null, bool preAuthorized = false)
    {
        using var captured = new MemoryStream();
        var sub = SubRequest.Create(Context, method, path, headers, body, contentLength, PreAuthorized(preAuthorized), captured);
        await SubRequest.RunAsync(sub, next);
        return new SwiftAnswer(sub.Response.StatusCode, sub.Response.Headers, captured.ToArray());
    }

    /// <summary>
    /// Runs a Swift sub-request whose body goes straight to the client: when the answer starts, <paramref name="start"/>
    /// sees it and says whether to pass the body through (after setting the client's status and headers); an
    /// answer it refuses is discarded and returned for the caller to turn into an S3 error.
    /// </summary>
    public async Task<(SwiftAnswer Answer, bool Passed)> SwiftStreamAsync(string method, string path, IEnumerable<KeyValuePair<string, string>>? headers,
        Func<SwiftAnswer, bool> start, Stream? target = null, bool preAuthorized = false)
    {
        HttpContext? sub = null;
        var gate = new GatedStream(target ?? Context.Response.Body, () => start(new SwiftAnswer(sub!.Response.StatusCode, sub.Response.Headers, [])));
        sub = SubRequest.Create(Context, method, path, headers, preAuthorized: PreAuthorized(preAuthorized), responseBody: gate);
        await SubRequest.RunAsync(sub, next);
        var answer = new SwiftAnswer(sub.Response.StatusCode, sub.Response.Headers, []);
        // An empty body never opened the gate: decide now.
        var passed = gate.Opened ? gate.Passing : start(answer);
        return (answer, passed);
    }

    private (string, string?)? PreAuthorized(bool yes) => yes ? (Principal.Account, Bucket) : null;

    /// <summary>Owner element content: the caller's Swift user name, as Swift's s3api shows it (the account for anonymous callers).</summary>
    public string OwnerId => Principal.Identity?.User ?? Principal.Account;

    /// <summary>A writable stream that asks once, on the first write, whether to pass bytes on or drop them.</summary>
    private sealed class GatedStream(Stream inner, Func<bool> decide) : Common.IO.WriteOnlyStream
    {
        public bool Opened { get; private set; }

        public bool Passing { get; private set; }

        private bool Open()
        {
            if (!Opened)
            {
                Opened = true;
                Passing = decide();
            }
            return Passing;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Open()) inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Open()) await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Opened && Passing ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    }

    /// <summary>Header pairs from (name, value) tuples, skipping nulls.</summary>
    public static List<KeyValuePair<string, string>> Headers(params (string Name, string? Value)[] pairs)
    {
        var list = new List<KeyValuePair<string, string>>(pairs.Length);
        foreach (var (name, value) in pairs)
            if (value is not null) list.Add(new(name, value));
        return list;
    }

    /// <summary>Base64 of UTF-8, for continuation tokens.</summary>
    public static string Token(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));

    /// <summary>The value a continuation token stands for; InvalidArgument when it is not one of ours.</summary>
    public static string FromToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw new S3Error("InvalidArgument", 400, "The continuation token provided is incorrect");
        }
    }
}

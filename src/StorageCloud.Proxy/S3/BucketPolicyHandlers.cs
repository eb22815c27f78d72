using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.S3;

/// <summary>A bucket's PublicAccessBlockConfiguration.</summary>
public sealed record PublicAccessBlock(bool BlockPublicAcls, bool IgnorePublicAcls, bool BlockPublicPolicy, bool RestrictPublicBuckets)
{
    /// <summary>The configuration kept in sysmeta ("1010": the four flags in S3's order), or null when none is.</summary>
    public static PublicAccessBlock? Parse(string? stored) =>
        stored is { Length: 4 } s && s.All(c => c is '0' or '1') ? new(s[0] == '1', s[1] == '1', s[2] == '1', s[3] == '1') : null;

    /// <summary>The sysmeta form.</summary>
    public string Stored() => string.Concat(Bit(BlockPublicAcls), Bit(IgnorePublicAcls), Bit(BlockPublicPolicy), Bit(RestrictPublicBuckets));

    private static string Bit(bool flag) => flag ? "1" : "0";
}

/// <summary>
/// Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus and Put/Get/DeletePublicAccessBlock. The policy is kept in
/// container sysmeta, compacted, zlib-compressed and base64-encoded, split over headers of at most 4 KiB: the proxy
/// puts no size limit on sysmeta (only X-Container-Meta-* is checked), but one header line must stay under Swift's
/// max_header_size (8 KiB) and all of them under the container servers' request header limit (Kestrel's 32 KiB),
/// which a 20 KiB policy does even incompressible (27.3 KiB of base64); the container HEAD that carries them back is
/// read with HttpClient's 64 KiB response header limit. zlib's checksum catches chunks of two concurrent writes mixed
/// by per-key last-writer-wins.
/// </summary>
public static class BucketPolicyHandlers
{
    /// <summary>Where the public access block configuration is kept.</summary>
    public const string BlockSysmeta = "X-Container-Sysmeta-S3-Public-Access-Block";

    private const string PolicySysmeta = "X-Container-Sysmeta-S3-Policy-";
    private const int ChunkLength = 4096;

    // 28 KiB of base64 holds any 20 KiB document (zlib adds a few bytes to incompressible data) and leaves room under
    // the container servers' 32 KiB for the request's other headers.
    private const int MaxChunks = 7;

    /// <summary>
    /// GET ?publicAccessBlock on a bucket with none: true answers NoSuchPublicAccessBlockConfiguration (404) as AWS
    /// does; false would answer the all-false defaults as Ceph's RGW does (what s3-tests' test_get_default_public_block wants).
    /// </summary>
    private static readonly bool MissingBlockIsError = true;

    private static readonly ConcurrentDictionary<string, BucketPolicy> Parsed = new(StringComparer.Ordinal);

    /// <summary>True for the requests these handlers answer.</summary>
    public static bool Handles(S3Request r) => r.Has("policy") || r.Has("policyStatus") || r.Has("publicAccessBlock");

    /// <summary>Answers a policy, policy status or public access block request.</summary>
    public static Task HandleAsync(S3Request r)
    {
        if (r.Key is not null) throw S3Error.NotImplemented();
        var method = r.Context.Request.Method;
        if (r.Has("policy")) return method switch { "PUT" => PutPolicyAsync(r), "GET" => GetPolicyAsync(r), "DELETE" => DeletePolicyAsync(r), _ => throw MethodNotAllowed() };
        if (r.Has("policyStatus")) return method == "GET" ? PolicyStatusAsync(r) : throw MethodNotAllowed();
        return method switch { "PUT" => PutBlockAsync(r), "GET" => GetBlockAsync(r), "DELETE" => DeleteBlockAsync(r), _ => throw MethodNotAllowed() };
    }

    /// <summary>The bucket's policy from its container headers (null when it has none; DenyAll when what is stored cannot be read).</summary>
    public static BucketPolicy? Load(Func<string, string?> header, string bucket)
    {
        if (Stored(header) is not { } stored) return null;
        var key = bucket + "/" + stored;
        if (Parsed.TryGetValue(key, out var cached)) return cached;
        BucketPolicy policy;
        try
        {
            policy = Decode(stored) is { } document ? BucketPolicy.Parse(document, bucket) : BucketPolicy.DenyAll;
        }
        catch (S3Error)
        {
            policy = BucketPolicy.DenyAll;
        }
        if (Parsed.Count >= 1024) Parsed.Clear();
        Parsed[key] = policy;
        return policy;
    }

    private static async Task PutPolicyAsync(S3Request r)
    {
        var policy = BucketPolicy.Parse(await ReadPolicyAsync(r), r.Bucket!);
        var stored = Encode(policy.Document);
        if (policy.Document.Length > BucketPolicy.MaxSize || stored.Length > ChunkLength * MaxChunks)
            throw BucketPolicy.Malformed("Policy exceeds the maximum allowed document size.");
        var head = await HeadAsync(r);
        if (policy.IsPublic && PublicAccessBlock.Parse(head.Header(BlockSysmeta))?.BlockPublicPolicy == true) throw S3Error.AccessDenied();
        await PostAsync(r, Chunks(stored));
        // Registered, so that callers of other accounts and anonymous ones find the bucket's owner (and its policy).
        await r.Registry.RegisterAsync(r.Bucket!, r.Principal.Account, r.Context.RequestAborted);
        r.Context.Response.StatusCode = 204;
    }

    private static async Task GetPolicyAsync(S3Request r)
    {
        var head = await HeadAsync(r);
        if (Stored(head.Header) is not { } stored)
            throw new S3Error("NoSuchBucketPolicy", 404, "The bucket policy does not exist") { Extra = [("BucketName", r.Bucket!)] };
        var document = Decode(stored)
            ?? throw new S3Error("InvalidBucketState", 409, "The bucket's stored policy cannot be read; put or delete the policy again.");
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentType = "application/json";
        r.Context.Response.ContentLength = document.Length;
        await r.Context.Response.Body.WriteAsync(document, r.Context.RequestAborted);
    }

    private static async Task DeletePolicyAsync(S3Request r)
    {
        await HeadAsync(r);
        await PostAsync(r, Chunks(null));
        r.Context.Response.StatusCode = 204;
    }

    private static async Task PolicyStatusAsync(S3Request r)
    {
        var head = await HeadAsync(r);
        // As RGW answers (and s3-tests expect): a public-read or authenticated-read ACL makes the bucket public too.
        var acl = (head.Header("X-Container-Read") ?? "").Split(',', StringSplitOptions.TrimEntries);
        var isPublic = Load(head.Header, r.Bucket!)?.IsPublic == true || acl.Any(g => g is ".r:*" or "*:*");
        await new S3Xml("PolicyStatus").Element("IsPublic", isPublic).WriteAsync(r.Context);
    }

    private static async Task PutBlockAsync(S3Request r)
    {
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        if (doc.DocumentElement is not { LocalName: "PublicAccessBlockConfiguration" } root) throw S3Error.MalformedXml();
        bool Flag(string name) => S3Xml.ChildText(root, name)?.Trim() switch
        {
            null => false,
            { } t when t.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
            { } t when t.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
            _ => throw S3Error.MalformedXml(),
        };
        var block = new PublicAccessBlock(Flag("BlockPublicAcls"), Flag("IgnorePublicAcls"), Flag("BlockPublicPolicy"), Flag("RestrictPublicBuckets"));
        await HeadAsync(r);
        await PostAsync(r, [new(BlockSysmeta, block.Stored())]);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    private static async Task GetBlockAsync(S3Request r)
    {
        var head = await HeadAsync(r);
        var block = PublicAccessBlock.Parse(head.Header(BlockSysmeta));
        if (block is null && MissingBlockIsError)
            throw new S3Error("NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found") { Extra = [("BucketName", r.Bucket!)] };
        block ??= new PublicAccessBlock(false, false, false, false);
        await new S3Xml("PublicAccessBlockConfiguration").Element("BlockPublicAcls", block.BlockPublicAcls).Element("IgnorePublicAcls", block.IgnorePublicAcls)
            .Element("BlockPublicPolicy", block.BlockPublicPolicy).Element("RestrictPublicBuckets", block.RestrictPublicBuckets).WriteAsync(r.Context);
    }

    private static async Task DeleteBlockAsync(S3Request r)
    {
        await HeadAsync(r);
        await PostAsync(r, [new(BlockSysmeta, "")]);
        r.Context.Response.StatusCode = 204;
    }

    private static async Task<SwiftAnswer> HeadAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        return head.IsSuccess ? head : throw S3Error.FromSwift(head.Status, r.Bucket, null);
    }

    private static async Task PostAsync(S3Request r, List<KeyValuePair<string, string>> headers)
    {
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!), headers);
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
    }

    /// <summary>The body (at most 20 KiB), its x-amz-content-sha256 and Content-MD5 checked.</summary>
    private static async Task<byte[]> ReadPolicyAsync(S3Request r)
    {
        var (body, _, failure) = Payload.Open(r);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int n;
            while ((n = await body.ReadAsync(chunk, r.Context.RequestAborted)) > 0)
            {
                if (buffer.Length + n > BucketPolicy.MaxSize) throw BucketPolicy.Malformed("Policy exceeds the maximum allowed document size.");
                buffer.Write(chunk, 0, n);
            }
        }
        catch (PayloadException e)
        {
            throw e.Error;
        }
        if (failure() is { } error) throw error;
        var bytes = buffer.ToArray();
        if (r.Context.Request.Headers["Content-MD5"].ToString() is { Length: > 0 } md5)
        {
            byte[] digest;
            try
            {
                digest = Convert.FromBase64String(md5);
            }
            catch (FormatException)
            {
                throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
            }
            if (!CryptographicOperations.FixedTimeEquals(digest, MD5.HashData(bytes)))
                throw new S3Error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.");
        }
        if (bytes.Length == 0) throw BucketPolicy.Malformed("Policies must be valid JSON and the first byte must be '{'");
        return bytes;
    }

    private static string? Stored(Func<string, string?> header)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < MaxChunks && header(PolicySysmeta + i) is { Length: > 0 } part; i++) sb.Append(part);
        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>Every chunk header, emptied (which removes it) past the stored text, so a shorter policy leaves no tail behind.</summary>
    private static List<KeyValuePair<string, string>> Chunks(string? stored)
    {
        var headers = new List<KeyValuePair<string, string>>(MaxChunks);
        for (var i = 0; i < MaxChunks; i++)
        {
            var start = i * ChunkLength;
            headers.Add(new(PolicySysmeta + i, stored is not null && start < stored.Length ? stored.Substring(start, Math.Min(ChunkLength, stored.Length - start)) : ""));
        }
        return headers;
    }

    private static string Encode(byte[] document)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(document);
        return Convert.ToBase64String(buffer.ToArray());
    }

    private static byte[]? Decode(string stored)
    {
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(Convert.FromBase64String(stored)), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = new byte[8192];
            int n;
            while ((n = zlib.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + n > BucketPolicy.MaxSize) return null;
                output.Write(chunk, 0, n);
            }
            return output.ToArray();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            return null;
        }
    }

    private static S3Error MethodNotAllowed() => new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
}

using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>The S3 API on a real cluster, signed as test:tester (tempauth credentials, as Swift's s3api takes them).</summary>
public sealed class S3ApiTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private static readonly XNamespace Ns = S3Client.Ns;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<string> BucketAsync()
    {
        var bucket = Unique("bkt");
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private async Task PutAsync(string bucket, string key, byte[] body, IDictionary<string, string>? headers = null)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), body, headers: headers);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(body))}\"", response.Headers.ETag!.Tag);
    }

    private async Task<(HttpStatusCode Status, byte[] Body, HttpResponseMessage Response)> GetAsync(string bucket, string key, string query = "", IDictionary<string, string>? headers = null)
    {
        var response = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, key), query: query, headers: headers);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response);
    }

    [Fact]
    public async Task Buckets_are_created_listed_located_and_deleted_with_S3s_errors()
    {
        var bucket = Unique("life");
        using (var create = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Encoding.UTF8.GetBytes(
                   $"<CreateBucketConfiguration xmlns=\"{S3Client.Ns}\"><LocationConstraint>RegionOne</LocationConstraint></CreateBucketConfiguration>")))
            Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        // Re-created by its owner: 200 and nothing changes in the default region (AWS's us-east-1), 409 elsewhere.
        using (var put = await _s3.SendAsync(HttpMethod.Put, $"/{bucket}/kept", Encoding.UTF8.GetBytes("kept")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var same = await _s3.SendAsync(HttpMethod.Put, "/" + bucket))
            Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        using (var kept = await _s3.SendAsync(HttpMethod.Get, $"/{bucket}/kept"))
            Assert.Equal("kept", await kept.Content.ReadAsStringAsync());
        using (var again = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Encoding.UTF8.GetBytes(
                   $"<CreateBucketConfiguration xmlns=\"{S3Client.Ns}\"><LocationConstraint>RegionOne</LocationConstraint></CreateBucketConfiguration>")))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal("BucketAlreadyOwnedByYou", await S3Client.ErrorCodeAsync(again));
            Assert.True(again.Headers.Contains("x-amz-request-id"));
        }
        using (var location = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "location"))
            Assert.Equal("RegionOne", (await S3Client.XmlAsync(location)).Value);
        using (var list = await _s3.SendAsync(HttpMethod.Get, "/"))
            Assert.Contains(bucket, (await S3Client.XmlAsync(list)).Descendants(Ns + "Name").Select(n => n.Value));
        using (var head = await _s3.SendAsync(HttpMethod.Head, "/" + bucket))
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        await PutAsync(bucket, "k", "v"u8.ToArray());
        using (var notEmpty = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket))
        {
            Assert.Equal(HttpStatusCode.Conflict, notEmpty.StatusCode);
            Assert.Equal("BucketNotEmpty", await S3Client.ErrorCodeAsync(notEmpty));
        }
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "k"))) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "kept"))) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket)) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await _s3.SendAsync(HttpMethod.Head, "/" + bucket)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var missing = await _s3.SendAsync(HttpMethod.Get, "/" + bucket))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            var error = await S3Client.XmlAsync(missing);
            Assert.Equal("NoSuchBucket", error.Element("Code")!.Value);
            Assert.Equal(bucket, error.Element("BucketName")!.Value);
            Assert.False(string.IsNullOrEmpty(error.Element("RequestId")!.Value));
        }
        foreach (var bad in new[] { "ab", "UPPER", "bad..dots", "-dash", "192.168.1.1", new string('a', 64) })
        {
            using var invalid = await _s3.SendAsync(HttpMethod.Put, "/" + bad);
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            Assert.Equal("InvalidBucketName", await S3Client.ErrorCodeAsync(invalid));
        }
    }

    [Fact]
    public async Task Objects_keep_metadata_and_serve_ranges_conditionals_and_overrides()
    {
        var bucket = await BucketAsync();
        var body = Encoding.UTF8.GetBytes("0123456789abcdefghij");
        await PutAsync(bucket, "dir/file name+é.txt", body, new Dictionary<string, string>
        {
            ["x-amz-meta-color"] = "blue", ["Content-Type"] = "text/plain", ["Cache-Control"] = "max-age=60",
            ["Content-MD5"] = Convert.ToBase64String(MD5.HashData(body)),
        });
        var (status, got, response) = await GetAsync(bucket, "dir/file name+é.txt");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(body, got);
        Assert.Equal("blue", response.Headers.GetValues("x-amz-meta-color").Single());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("max-age=60", response.Headers.CacheControl!.ToString());
        var etag = response.Headers.ETag!.Tag;

        (status, got, response) = await GetAsync(bucket, "dir/file name+é.txt", headers: new Dictionary<string, string> { ["Range"] = "bytes=2-5" });
        Assert.Equal(HttpStatusCode.PartialContent, status);
        Assert.Equal("2345", Encoding.UTF8.GetString(got));
        Assert.Equal("bytes 2-5/20", response.Content.Headers.ContentRange!.ToString());
        (status, _, _) = await GetAsync(bucket, "dir/file name+é.txt", headers: new Dictionary<string, string> { ["Range"] = "bytes=50-60" });
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, status);
        (status, _, _) = await GetAsync(bucket, "dir/file name+é.txt", headers: new Dictionary<string, string> { ["If-None-Match"] = etag });
        Assert.Equal(HttpStatusCode.NotModified, status);
        (status, got, _) = await GetAsync(bucket, "dir/file name+é.txt", headers: new Dictionary<string, string> { ["If-Match"] = "\"nomatch\"" });
        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        (_, _, response) = await GetAsync(bucket, "dir/file name+é.txt", "response-content-type=application%2Fjson&response-content-disposition=attachment");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.ToString());

        using (var bad = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "md5"), body, headers: new Dictionary<string, string> { ["Content-MD5"] = Convert.ToBase64String(new byte[16]) }))
            Assert.Equal("BadDigest", await S3Client.ErrorCodeAsync(bad));
        var (missing, missingBody, _) = await GetAsync(bucket, "nope");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("NoSuchKey", XElement.Parse(Encoding.UTF8.GetString(missingBody)).Element("Code")!.Value);
        // Deleting what is not there is still 204, as S3 answers.
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "nope"))) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }

    [Fact]
    public async Task Payload_hashes_are_checked_and_a_mismatch_stores_nothing()
    {
        var bucket = await BucketAsync();
        using (var wrong = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "k"), "data"u8.ToArray(), payloadHash: Convert.ToHexStringLower(SHA256.HashData("other"u8))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Equal("XAmzContentSHA256Mismatch", await S3Client.ErrorCodeAsync(wrong));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(bucket, "k")).Status);
        using (var unsigned = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "u"), "unsigned"u8.ToArray(), payloadHash: "UNSIGNED-PAYLOAD"))
            Assert.Equal(HttpStatusCode.OK, unsigned.StatusCode);
        Assert.Equal("unsigned", Encoding.UTF8.GetString((await GetAsync(bucket, "u")).Body));
        using (var checksum = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "c"), "data"u8.ToArray(), payloadHash: "UNSIGNED-PAYLOAD",
                   headers: new Dictionary<string, string> { ["x-amz-checksum-sha256"] = Convert.ToBase64String(SHA256.HashData("different"u8)) }))
            Assert.Equal("BadDigest", await S3Client.ErrorCodeAsync(checksum));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(bucket, "c")).Status);
    }

    [Fact]
    public async Task Streaming_uploads_verify_every_chunk_signature()
    {
        var bucket = await BucketAsync();
        var data = RandomNumberGenerator.GetBytes(200_000);
        Dictionary<string, string> Headers() => new()
        {
            ["Content-Encoding"] = "aws-chunked", ["x-amz-decoded-content-length"] = data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        using (var ok = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "streamed"), query: "", headers: Headers(), payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                   bodyFromSeed: seed => S3Client.SignedChunks(data, 65536, _s3.LastKey, _s3.LastAmzDate, _s3.LastScope, seed)))
            Assert.True(ok.StatusCode == HttpStatusCode.OK, await ok.Content.ReadAsStringAsync());
        var (status, got, response) = await GetAsync(bucket, "streamed");
        Assert.Equal(data, got);
        Assert.Null(response.Content.Headers.ContentEncoding.FirstOrDefault());

        using (var tampered = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "tampered"), headers: Headers(), payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                   bodyFromSeed: seed => S3Client.SignedChunks(data, 65536, _s3.LastKey, _s3.LastAmzDate, _s3.LastScope, seed, tamperChunk: 2)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
            Assert.Equal("SignatureDoesNotMatch", await S3Client.ErrorCodeAsync(tampered));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(bucket, "tampered")).Status);

        // Unsigned chunks with a checksum trailer, as current SDKs send by default.
        var trailer = Convert.ToBase64String(SHA256.HashData(data));
        var chunked = Encoding.ASCII.GetBytes($"{data.Length:x}\r\n").Concat(data).Concat(Encoding.ASCII.GetBytes($"\r\n0\r\nx-amz-checksum-sha256:{trailer}\r\n\r\n")).ToArray();
        var trailerHeaders = Headers();
        trailerHeaders["x-amz-trailer"] = "x-amz-checksum-sha256";
        using (var withTrailer = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "trailer"), chunked, headers: trailerHeaders, payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
            Assert.True(withTrailer.StatusCode == HttpStatusCode.OK, await withTrailer.Content.ReadAsStringAsync());
        Assert.Equal(data, (await GetAsync(bucket, "trailer")).Body);
    }

    [Fact]
    public async Task Bad_signatures_keys_clocks_and_presigned_urls_are_refused()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "k", "secret data"u8.ToArray());
        using (var tampered = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"), tamper: s => (s[0] == 'a' ? "b" : "a") + s[1..]))
        {
            Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
            Assert.Equal("SignatureDoesNotMatch", await S3Client.ErrorCodeAsync(tampered));
        }
        var stranger = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "nobody:none", "x");
        using (var unknown = await stranger.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k")))
            Assert.Equal("InvalidAccessKeyId", await S3Client.ErrorCodeAsync(unknown));
        var skewed = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing") { Clock = DateTimeOffset.UtcNow.AddMinutes(-20) };
        using (var old = await skewed.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, old.StatusCode);
            Assert.Equal("RequestTimeTooSkewed", await S3Client.ErrorCodeAsync(old));
        }
        // Another tenant's keys sign fine but reach nothing of test's: the bucket's name is taken (S3's names are
        // global), so the answer is AWS's AccessDenied, with none of the data.
        var other = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "test2:tester2", "testing2");
        using (var denied = await other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(denied));
            Assert.DoesNotContain("secret data", await denied.Content.ReadAsStringAsync());
        }

        using (var presigned = await fixture.Host.Client.GetAsync(_s3.Presign("GET", S3Client.PathOf(bucket, "k"), TimeSpan.FromMinutes(5))))
            Assert.Equal("secret data", await presigned.Content.ReadAsStringAsync());
        var past = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing") { Clock = DateTimeOffset.UtcNow.AddHours(-2) };
        using (var expired = await fixture.Host.Client.GetAsync(past.Presign("GET", S3Client.PathOf(bucket, "k"), TimeSpan.FromHours(1))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
            var error = await S3Client.XmlAsync(expired);
            Assert.Equal("AccessDenied", error.Element("Code")!.Value);
            Assert.Equal("Request has expired", error.Element("Message")!.Value);
        }
        using (var tooLong = await fixture.Host.Client.GetAsync(_s3.Presign("GET", S3Client.PathOf(bucket, "k"), TimeSpan.FromDays(8))))
            Assert.Equal("AuthorizationQueryParametersError", await S3Client.ErrorCodeAsync(tooLong));
        var putUrl = _s3.Presign("PUT", S3Client.PathOf(bucket, "presigned-put"), TimeSpan.FromMinutes(5));
        using (var put = await fixture.Host.Client.PutAsync(putUrl, new ByteArrayContent("via url"u8.ToArray())))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("via url", Encoding.UTF8.GetString((await GetAsync(bucket, "presigned-put")).Body));
    }

    [Fact]
    public async Task Listings_v1_and_v2_page_group_and_encode_like_S3()
    {
        var bucket = await BucketAsync();
        foreach (var key in new[] { "a/1", "a/2", "b/1", "c", "d e" }) await PutAsync(bucket, key, Encoding.UTF8.GetBytes(key));
        using (var v1 = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "delimiter=%2F"))
        {
            var xml = await S3Client.XmlAsync(v1);
            Assert.Equal(["c", "d e"], xml.Elements(Ns + "Contents").Select(c => c.Element(Ns + "Key")!.Value).ToArray());
            Assert.Equal(["a/", "b/"], xml.Elements(Ns + "CommonPrefixes").Select(c => c.Element(Ns + "Prefix")!.Value).ToArray());
            Assert.Equal("false", xml.Element(Ns + "IsTruncated")!.Value);
        }
        var keys = new List<string>();
        string? token = null;
        do
        {
            var query = "list-type=2&max-keys=2" + (token is null ? "" : "&continuation-token=" + Uri.EscapeDataString(token));
            using var page = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: query);
            var xml = await S3Client.XmlAsync(page);
            keys.AddRange(xml.Elements(Ns + "Contents").Select(c => c.Element(Ns + "Key")!.Value));
            Assert.Null(xml.Element(Ns + "Contents")?.Element(Ns + "Owner"));
            token = xml.Element(Ns + "NextContinuationToken")?.Value;
            Assert.Equal(token is not null ? "true" : "false", xml.Element(Ns + "IsTruncated")!.Value);
        }
        while (token is not null);
        Assert.Equal(["a/1", "a/2", "b/1", "c", "d e"], keys);
        using (var encoded = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "list-type=2&prefix=d&encoding-type=url&fetch-owner=true&start-after=c"))
        {
            var xml = await S3Client.XmlAsync(encoded);
            Assert.Equal("d%20e", xml.Element(Ns + "Contents")!.Element(Ns + "Key")!.Value);
            Assert.Equal("test:tester", xml.Element(Ns + "Contents")!.Element(Ns + "Owner")!.Element(Ns + "ID")!.Value);
            Assert.Equal("1", xml.Element(Ns + "KeyCount")!.Value);
        }
        using (var v1Page = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "max-keys=1&marker=a%2F2&prefix=b"))
            Assert.Equal("b/1", (await S3Client.XmlAsync(v1Page)).Element(Ns + "Contents")!.Element(Ns + "Key")!.Value);
    }

    [Fact]
    public async Task Copy_and_multi_delete_work_and_objects_are_shared_with_the_Swift_API()
    {
        var source = await BucketAsync();
        var target = await BucketAsync();
        await PutAsync(source, "orig", "original"u8.ToArray(), new Dictionary<string, string> { ["x-amz-meta-a"] = "1" });
        using (var copy = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(target, "kept"), headers: new Dictionary<string, string> { ["x-amz-copy-source"] = $"/{source}/orig" }))
        {
            Assert.Equal(HttpStatusCode.OK, copy.StatusCode);
            Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData("original"u8))}\"", (await S3Client.XmlAsync(copy)).Element(Ns + "ETag")!.Value);
        }
        Assert.Equal("1", (await GetAsync(target, "kept")).Response.Headers.GetValues("x-amz-meta-a").Single());
        using (var replace = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(target, "replaced"), headers: new Dictionary<string, string>
               {
                   ["x-amz-copy-source"] = $"{source}/orig", ["x-amz-metadata-directive"] = "REPLACE", ["x-amz-meta-b"] = "2",
               }))
            Assert.Equal(HttpStatusCode.OK, replace.StatusCode);
        var replaced = (await GetAsync(target, "replaced")).Response;
        Assert.False(replaced.Headers.Contains("x-amz-meta-a"));
        Assert.Equal("2", replaced.Headers.GetValues("x-amz-meta-b").Single());
        using (var failed = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(target, "never"), headers: new Dictionary<string, string>
               {
                   ["x-amz-copy-source"] = $"/{source}/orig", ["x-amz-copy-source-if-match"] = "\"other\"",
               }))
            Assert.Equal("PreconditionFailed", await S3Client.ErrorCodeAsync(failed));
        using (var self = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(source, "orig"), headers: new Dictionary<string, string> { ["x-amz-copy-source"] = $"/{source}/orig" }))
            Assert.Equal("InvalidRequest", await S3Client.ErrorCodeAsync(self));

        // The Swift API sees S3's objects, and S3 sees Swift's.
        var (token, storage) = await fixture.Host.AuthAsync();
        var swiftPath = new Uri(storage).AbsolutePath;
        using (var swiftGet = await fixture.Host.SendAsync(HttpMethod.Get, $"{swiftPath}/{target}/kept", token))
            Assert.Equal("original", await swiftGet.Content.ReadAsStringAsync());
        using (var swiftPut = await fixture.Host.SendAsync(HttpMethod.Put, $"{swiftPath}/{target}/from-swift", token, new StringContent("swift")))
            Assert.Equal(HttpStatusCode.Created, swiftPut.StatusCode);
        Assert.Equal("swift", Encoding.UTF8.GetString((await GetAsync(target, "from-swift")).Body));

        var deleteXml = Encoding.UTF8.GetBytes($"<Delete><Object><Key>kept</Key></Object><Object><Key>missing</Key></Object><Object><Key>from-swift</Key></Object></Delete>");
        using (var multi = await _s3.SendAsync(HttpMethod.Post, "/" + target, deleteXml, query: "delete",
                   headers: new Dictionary<string, string> { ["Content-MD5"] = Convert.ToBase64String(MD5.HashData(deleteXml)) }))
        {
            var xml = await S3Client.XmlAsync(multi);
            Assert.Equal(["kept", "missing", "from-swift"], xml.Elements(Ns + "Deleted").Select(d => d.Element(Ns + "Key")!.Value).ToArray());
        }
        var quietXml = "<Delete><Quiet>true</Quiet><Object><Key>replaced</Key></Object></Delete>"u8.ToArray();
        using (var quiet = await _s3.SendAsync(HttpMethod.Post, "/" + target, quietXml, query: "delete"))
            Assert.Empty((await S3Client.XmlAsync(quiet)).Elements());
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(target, "replaced")).Status);
        using (var malformed = await _s3.SendAsync(HttpMethod.Post, "/" + target, "<Delete><Object>"u8.ToArray(), query: "delete"))
            Assert.Equal("MalformedXML", await S3Client.ErrorCodeAsync(malformed));
    }

    [Fact]
    public async Task Unsupported_subresources_say_NotImplemented()
    {
        var bucket = await BucketAsync();
        using (var acl = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "website"))
        {
            Assert.Equal(HttpStatusCode.NotImplemented, acl.StatusCode);
            Assert.Equal("NotImplemented", await S3Client.ErrorCodeAsync(acl));
        }
    }
}

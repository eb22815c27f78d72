using System.Net;
using System.Text;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>S3 versioning (over Swift's object versioning), tagging, canned ACLs with anonymous reads, and global bucket names.</summary>
public sealed class S3FeatureTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private static readonly XNamespace Ns = S3Client.Ns;

    private async Task<string> BucketAsync(IDictionary<string, string>? headers = null)
    {
        var bucket = "feat-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private async Task<string?> PutAsync(string bucket, string key, string body, IDictionary<string, string>? headers = null)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), Encoding.UTF8.GetBytes(body), headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.TryGetValues("x-amz-version-id", out var v) ? v.Single() : null;
    }

    [Fact]
    public async Task Versioning_keeps_old_versions_and_delete_markers()
    {
        var bucket = await BucketAsync();
        using (var none = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "versioning"))
            Assert.Null((await S3Client.XmlAsync(none)).Element(Ns + "Status"));
        var enable = Encoding.UTF8.GetBytes("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>");
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, enable, query: "versioning")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "versioning"))
            Assert.Equal("Enabled", (await S3Client.XmlAsync(get)).Element(Ns + "Status")!.Value);
        var v1 = await PutAsync(bucket, "doc", "first");
        var v2 = await PutAsync(bucket, "doc", "second");
        Assert.NotNull(v1);
        Assert.NotEqual(v1, v2);
        string markerId;
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "doc")))
        {
            Assert.Equal("true", delete.Headers.GetValues("x-amz-delete-marker").Single());
            markerId = delete.Headers.GetValues("x-amz-version-id").Single();
        }
        using (var gone = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "doc"))) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var old = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "doc"), query: "versionId=" + v1))
        {
            Assert.Equal("first", await old.Content.ReadAsStringAsync());
            Assert.Equal(v1, old.Headers.GetValues("x-amz-version-id").Single());
        }
        using (var list = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "versions"))
        {
            var xml = await S3Client.XmlAsync(list);
            var marker = xml.Element(Ns + "DeleteMarker")!;
            Assert.Equal(markerId, marker.Element(Ns + "VersionId")!.Value);
            Assert.Equal("true", marker.Element(Ns + "IsLatest")!.Value);
            Assert.Equal(new[] { v2!, v1! }, xml.Elements(Ns + "Version").Select(v => v.Element(Ns + "VersionId")!.Value).ToArray());
        }
        // Removing the marker brings the newest version back.
        using (var undelete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "doc"), query: "versionId=" + markerId))
            Assert.Equal(HttpStatusCode.NoContent, undelete.StatusCode);
        using (var back = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "doc"))) Assert.Equal("second", await back.Content.ReadAsStringAsync());
        // S3's model: deleting the current version by id makes the previous one current (Swift's API leaves a 404).
        using (var dropCurrent = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "doc"), query: "versionId=" + v2))
            Assert.Equal(HttpStatusCode.NoContent, dropCurrent.StatusCode);
        using (var previous = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "doc"))) Assert.Equal("first", await previous.Content.ReadAsStringAsync());
        var suspend = Encoding.UTF8.GetBytes("<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>");
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, suspend, query: "versioning")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "versioning"))
            Assert.Equal("Suspended", (await S3Client.XmlAsync(get)).Element(Ns + "Status")!.Value);
        using (var bad = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, "<VersioningConfiguration><Status>Sideways</Status></VersioningConfiguration>"u8.ToArray(), query: "versioning"))
            Assert.Equal("MalformedXML", await S3Client.ErrorCodeAsync(bad));
    }

    [Fact]
    public async Task Objects_and_buckets_carry_tags_without_losing_metadata()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "tagged", "body", new Dictionary<string, string> { ["x-amz-tagging"] = "team=ops&tier=gold", ["x-amz-meta-keep"] = "me" });
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "tagged"), query: "tagging"))
        {
            var tags = (await S3Client.XmlAsync(get)).Descendants(Ns + "Tag").ToDictionary(t => t.Element(Ns + "Key")!.Value, t => t.Element(Ns + "Value")!.Value);
            Assert.Equal(new Dictionary<string, string> { ["team"] = "ops", ["tier"] = "gold" }, tags);
        }
        var set = Encoding.UTF8.GetBytes("<Tagging><TagSet><Tag><Key>env</Key><Value>prod</Value></Tag></TagSet></Tagging>");
        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "tagged"), set, query: "tagging")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var obj = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "tagged")))
        {
            Assert.Equal("me", obj.Headers.GetValues("x-amz-meta-keep").Single());
            Assert.Equal("1", obj.Headers.GetValues("x-amz-tagging-count").Single());
            Assert.Equal("body", await obj.Content.ReadAsStringAsync());
        }
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "tagged"), query: "tagging")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var empty = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "tagged"), query: "tagging"))
            Assert.Empty((await S3Client.XmlAsync(empty)).Descendants(Ns + "Tag"));
        var duplicate = Encoding.UTF8.GetBytes("<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>");
        using (var bad = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "tagged"), duplicate, query: "tagging"))
            Assert.Equal("InvalidTag", await S3Client.ErrorCodeAsync(bad));

        using (var none = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "tagging")) Assert.Equal("NoSuchTagSet", await S3Client.ErrorCodeAsync(none));
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, set, query: "tagging")) Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "tagging"))
            Assert.Equal("prod", (await S3Client.XmlAsync(get)).Descendants(Ns + "Value").Single().Value);
    }

    [Fact]
    public async Task An_OPTIONS_without_an_Origin_is_BadRequest_even_when_presigned()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "k", "v");
        using (var options = await fixture.Host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, _s3.Presign("GET", S3Client.PathOf(bucket, "k"), TimeSpan.FromMinutes(5)))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, options.StatusCode);
            Assert.Equal("BadRequest", await S3Client.ErrorCodeAsync(options));
        }
        // The same URL still reads the object.
        using (var get = await fixture.Host.Client.GetAsync(_s3.Presign("GET", S3Client.PathOf(bucket, "k"), TimeSpan.FromMinutes(5))))
            Assert.Equal("v", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Canned_acls_open_buckets_or_single_objects_to_anonymous_readers()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "public.txt", "for everyone");
        await PutAsync(bucket, "private.txt", "for me");
        var http = fixture.Host.Client;
        using (var denied = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/public.txt"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(denied));
        }
        using (var acl = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "public.txt"), query: "acl", headers: new Dictionary<string, string> { ["x-amz-acl"] = "public-read" }))
            Assert.Equal(HttpStatusCode.OK, acl.StatusCode);
        using (var open = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/public.txt")) Assert.Equal("for everyone", await open.Content.ReadAsStringAsync());
        using (var still = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/private.txt")) Assert.Equal(HttpStatusCode.Forbidden, still.StatusCode);
        using (var listing = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}")) Assert.Equal(HttpStatusCode.Forbidden, listing.StatusCode);
        using (var policy = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "public.txt"), query: "acl"))
            Assert.Contains("http://acs.amazonaws.com/groups/global/AllUsers", await policy.Content.ReadAsStringAsync());

        // The whole bucket: every object and the listing.
        var body = Encoding.UTF8.GetBytes($"<AccessControlPolicy><Owner><ID>test:tester</ID></Owner><AccessControlList>"
            + "<Grant><Grantee><ID>test:tester</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
            + "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"
            + "</AccessControlList></AccessControlPolicy>");
        using (var acl = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, body, query: "acl")) Assert.Equal(HttpStatusCode.OK, acl.StatusCode);
        using (var open = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/private.txt")) Assert.Equal("for me", await open.Content.ReadAsStringAsync());
        using (var listing = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}"))
            Assert.Equal(2, (await S3Client.XmlAsync(listing)).Elements(Ns + "Contents").Count());
        using (var write = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}/anon.txt", new StringContent("x"))) Assert.NotEqual(HttpStatusCode.OK, write.StatusCode);
        using (var privateAgain = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: new Dictionary<string, string> { ["x-amz-acl"] = "private" }))
            Assert.Equal(HttpStatusCode.OK, privateAgain.StatusCode);
        using (var closed = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/private.txt")) Assert.Equal(HttpStatusCode.Forbidden, closed.StatusCode);
        using (var grant = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: new Dictionary<string, string> { ["x-amz-acl"] = "public-read-write" }))
            Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
    }

    [Fact]
    public async Task Bucket_names_are_global_across_accounts()
    {
        var bucket = await BucketAsync();
        var other = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "test2:tester2", "testing2");
        using var taken = await other.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal("BucketAlreadyExists", await S3Client.ErrorCodeAsync(taken));
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket)) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var free = await other.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
    }
}

/// <summary>Bucket CORS, checksums, part reads and virtual-hosted addressing.</summary>
public sealed class S3MoreFeatureTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private static readonly XNamespace Ns = S3Client.Ns;

    private async Task<string> BucketAsync()
    {
        var bucket = "more-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    [Fact]
    public async Task Cors_rules_answer_preflights_and_tag_actual_requests()
    {
        var bucket = await BucketAsync();
        using (var none = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "cors")) Assert.Equal("NoSuchCORSConfiguration", await S3Client.ErrorCodeAsync(none));
        var config = Encoding.UTF8.GetBytes("<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
            + "<AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>");
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, config, query: "cors")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "cors"))
            Assert.Equal("600", (await S3Client.XmlAsync(get)).Descendants().Single(e => e.Name.LocalName == "MaxAgeSeconds").Value);
        using (var bad = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>"u8.ToArray(), query: "cors"))
            Assert.Equal("InvalidRequest", await S3Client.ErrorCodeAsync(bad));

        async Task<HttpResponseMessage> Preflight(string origin, string method, string? headers = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, $"{fixture.Host.BaseUrl}/{bucket}/file.txt");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", method);
            if (headers is not null) request.Headers.Add("Access-Control-Request-Headers", headers);
            return await fixture.Host.Client.SendAsync(request);
        }
        using (var ok = await Preflight("https://app.example.com", "PUT", "x-amz-meta-a"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("https://app.example.com", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("600", ok.Headers.GetValues("Access-Control-Max-Age").Single());
        }
        using (var wrongOrigin = await Preflight("https://evil.test", "GET")) Assert.Equal(HttpStatusCode.Forbidden, wrongOrigin.StatusCode);
        using (var wrongMethod = await Preflight("https://app.example.com", "DELETE")) Assert.Equal(HttpStatusCode.Forbidden, wrongMethod.StatusCode);
        using (var wrongHeader = await Preflight("https://app.example.com", "PUT", "authorization-x")) Assert.Equal(HttpStatusCode.Forbidden, wrongHeader.StatusCode);

        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "file.txt"), "x"u8.ToArray())) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var actual = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "file.txt"), headers: new Dictionary<string, string> { ["Origin"] = "https://app.example.com" }))
        {
            Assert.Equal("https://app.example.com", actual.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("ETag", actual.Headers.GetValues("Access-Control-Expose-Headers").Single());
        }
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket, query: "cors")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await Preflight("https://app.example.com", "GET")) Assert.Equal(HttpStatusCode.Forbidden, gone.StatusCode);
    }

    [Fact]
    public async Task Crc32c_checksums_are_verified()
    {
        var bucket = await BucketAsync();
        var data = "checksummed"u8.ToArray();
        var crc = StorageCloud.Proxy.S3.Payload.Crc32CBase64(StorageCloud.Common.Hashing.Crc32C.Compute(data));
        using (var ok = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "c"), data, headers: new Dictionary<string, string> { ["x-amz-checksum-crc32c"] = crc }))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var bad = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "d"), data, headers: new Dictionary<string, string> { ["x-amz-checksum-crc32c"] = "AAAAAA==" }))
            Assert.Equal("BadDigest", await S3Client.ErrorCodeAsync(bad));
        using (var missing = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "d"))) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Parts_of_a_multipart_object_read_by_number()
    {
        var bucket = await BucketAsync();
        var part1 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(5 * 1024 * 1024);
        var part2 = "tail"u8.ToArray();
        using var start = await _s3.SendAsync(HttpMethod.Post, S3Client.PathOf(bucket, "mp"), query: "uploads");
        var upload = (await S3Client.XmlAsync(start)).Element(Ns + "UploadId")!.Value;
        var etags = new List<string>();
        foreach (var (n, data) in new[] { (1, part1), (2, part2) })
        {
            using var part = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "mp"), data, query: $"partNumber={n}&uploadId={upload}");
            etags.Add(part.Headers.ETag!.Tag);
        }
        var xml = $"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etags[0]}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{etags[1]}</ETag></Part></CompleteMultipartUpload>";
        using (var complete = await _s3.SendAsync(HttpMethod.Post, S3Client.PathOf(bucket, "mp"), Encoding.UTF8.GetBytes(xml), query: $"uploadId={upload}"))
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        using (var second = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "mp"), query: "partNumber=2"))
        {
            Assert.Equal(HttpStatusCode.PartialContent, second.StatusCode);
            Assert.Equal("tail", await second.Content.ReadAsStringAsync());
            Assert.Equal("2", second.Headers.GetValues("x-amz-mp-parts-count").Single());
        }
        using (var first = await _s3.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, "mp"), query: "partNumber=1"))
            Assert.Equal(5 * 1024 * 1024, first.Content.Headers.ContentLength);
        using (var third = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "mp"), query: "partNumber=3"))
            Assert.Equal("InvalidPartNumber", await S3Client.ErrorCodeAsync(third));
    }
}

/// <summary>Virtual-hosted requests: the bucket in the Host header under Proxy:S3BaseDomain.</summary>
public sealed class S3VirtualHostTests : IAsyncLifetime
{
    private ClusterHost _host = null!;

    public async Task InitializeAsync() => _host = await ClusterHost.StartAsync(options: new ProxyOptions { S3BaseDomain = "s3.test" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task The_bucket_can_be_named_by_the_host()
    {
        var path = new S3Client(_host.Client, _host.BaseUrl, "test:tester", "testing");
        using (var create = await path.SendAsync(HttpMethod.Put, "/vhost-bucket")) Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        var port = new Uri(_host.BaseUrl).Port;
        var hosted = new S3Client(_host.Client, _host.BaseUrl, "test:tester", "testing") { Host = $"vhost-bucket.s3.test:{port}" };
        using (var put = await hosted.SendAsync(HttpMethod.Put, "/dir/key.txt", "hosted"u8.ToArray())) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await path.SendAsync(HttpMethod.Get, "/vhost-bucket/dir/key.txt")) Assert.Equal("hosted", await get.Content.ReadAsStringAsync());
        using var list = await hosted.SendAsync(HttpMethod.Get, "/", query: "list-type=2");
        Assert.Equal("dir/key.txt", (await S3Client.XmlAsync(list)).Element(S3Client.Ns + "Contents")!.Element(S3Client.Ns + "Key")!.Value);
    }
}

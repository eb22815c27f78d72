using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>Multipart uploads through the S3 API: stored as a static large object over parts in &lt;bucket&gt;+segments.</summary>
public sealed class S3MultipartTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private static readonly XNamespace Ns = S3Client.Ns;
    private const int FiveMiB = 5 * 1024 * 1024;

    private async Task<string> BucketAsync()
    {
        var bucket = "mpu-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private async Task<string> StartAsync(string bucket, string key, IDictionary<string, string>? headers = null)
    {
        using var response = await _s3.SendAsync(HttpMethod.Post, S3Client.PathOf(bucket, key), query: "uploads", headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await S3Client.XmlAsync(response)).Element(Ns + "UploadId")!.Value;
    }

    private async Task<string> PartAsync(string bucket, string key, string upload, int number, byte[] data)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), data, query: $"partNumber={number}&uploadId={upload}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return response.Headers.ETag!.Tag;
    }

    private Task<HttpResponseMessage> CompleteAsync(string bucket, string key, string upload, params (int Number, string ETag)[] parts)
    {
        var xml = "<CompleteMultipartUpload>" + string.Concat(parts.Select(p => $"<Part><PartNumber>{p.Number}</PartNumber><ETag>{p.ETag}</ETag></Part>")) + "</CompleteMultipartUpload>";
        return _s3.SendAsync(HttpMethod.Post, S3Client.PathOf(bucket, key), Encoding.UTF8.GetBytes(xml), query: $"uploadId={upload}");
    }

    [Fact]
    public async Task A_bucket_holding_only_an_unfinished_upload_is_deleted_with_the_upload()
    {
        var bucket = await BucketAsync();
        await PutObjectAsync(bucket, "kept");
        var upload = await StartAsync(bucket, "pending");
        await PartAsync(bucket, "pending", upload, 1, "part one"u8.ToArray());
        // An object still in the bucket: not empty, and the upload stays.
        using (var notEmpty = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket))
            Assert.Equal("BucketNotEmpty", await S3Client.ErrorCodeAsync(notEmpty));
        using (var parts = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "pending"), query: $"uploadId={upload}"))
            Assert.Equal(HttpStatusCode.OK, parts.StatusCode);
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "kept"))) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        // Only the unfinished upload left: the bucket goes, and its parts with it.
        using (var deleteBucket = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket)) Assert.Equal(HttpStatusCode.NoContent, deleteBucket.StatusCode);
        var (token, storage) = await fixture.Host.AuthAsync();
        using (var segments = await fixture.Host.SendAsync(HttpMethod.Get, $"{new Uri(storage).AbsolutePath}/{bucket}+segments", token))
            Assert.Equal(HttpStatusCode.NotFound, segments.StatusCode);
        using (var gone = await _s3.SendAsync(HttpMethod.Head, "/" + bucket)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private async Task PutObjectAsync(string bucket, string key)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), "data"u8.ToArray());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_completed_upload_reads_back_whole_with_S3s_multipart_ETag_and_its_parts_go_with_it()
    {
        var bucket = await BucketAsync();
        var part1 = RandomNumberGenerator.GetBytes(FiveMiB);
        var part2 = RandomNumberGenerator.GetBytes(1234);
        var upload = await StartAsync(bucket, "big/object", new Dictionary<string, string> { ["Content-Type"] = "video/mp4", ["x-amz-meta-origin"] = "camera" });
        var e1 = await PartAsync(bucket, "big/object", upload, 1, part1);
        var e2 = await PartAsync(bucket, "big/object", upload, 2, part2);
        await PartAsync(bucket, "big/object", upload, 3, "unused"u8.ToArray());

        using (var uploads = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "uploads"))
        {
            var u = (await S3Client.XmlAsync(uploads)).Element(Ns + "Upload")!;
            Assert.Equal("big/object", u.Element(Ns + "Key")!.Value);
            Assert.Equal(upload, u.Element(Ns + "UploadId")!.Value);
        }
        using (var parts = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "big/object"), query: $"uploadId={upload}&max-parts=2"))
        {
            var xml = await S3Client.XmlAsync(parts);
            Assert.Equal(["1", "2"], xml.Elements(Ns + "Part").Select(p => p.Element(Ns + "PartNumber")!.Value).ToArray());
            Assert.Equal(FiveMiB.ToString(System.Globalization.CultureInfo.InvariantCulture), xml.Element(Ns + "Part")!.Element(Ns + "Size")!.Value);
            Assert.Equal("true", xml.Element(Ns + "IsTruncated")!.Value);
        }

        using (var complete = await CompleteAsync(bucket, "big/object", upload, (1, e1), (2, e2)))
        {
            Assert.True(complete.StatusCode == HttpStatusCode.OK, await complete.Content.ReadAsStringAsync());
            var md5s = MD5.HashData(MD5.HashData(part1).Concat(MD5.HashData(part2)).ToArray());
            Assert.Equal($"\"{Convert.ToHexStringLower(md5s)}-2\"", (await S3Client.XmlAsync(complete)).Element(Ns + "ETag")!.Value);
        }
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "big/object")))
        {
            Assert.Equal(part1.Concat(part2).ToArray(), await get.Content.ReadAsByteArrayAsync());
            Assert.EndsWith("-2\"", get.Headers.ETag!.Tag);
            Assert.Equal("video/mp4", get.Content.Headers.ContentType!.ToString());
            Assert.Equal("camera", get.Headers.GetValues("x-amz-meta-origin").Single());
        }
        using (var list = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "list-type=2"))
        {
            var contents = (await S3Client.XmlAsync(list)).Elements(Ns + "Contents").Single();
            Assert.EndsWith("-2\"", contents.Element(Ns + "ETag")!.Value);
            Assert.Equal((FiveMiB + 1234).ToString(System.Globalization.CultureInfo.InvariantCulture), contents.Element(Ns + "Size")!.Value);
        }
        // The upload is over; the unused part is gone; the segments container is not a bucket.
        using (var again = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "big/object"), query: $"uploadId={upload}"))
            Assert.Equal("NoSuchUpload", await S3Client.ErrorCodeAsync(again));
        using (var buckets = await _s3.SendAsync(HttpMethod.Get, "/"))
            Assert.DoesNotContain(bucket + "+segments", (await S3Client.XmlAsync(buckets)).Descendants(Ns + "Name").Select(n => n.Value));
        var (token, storage) = await fixture.Host.AuthAsync();
        using (var segments = await fixture.Host.SendAsync(HttpMethod.Get, $"{new Uri(storage).AbsolutePath}/{bucket}+segments", token))
            Assert.Equal(2, (await segments.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "big/object"))) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var segments = await fixture.Host.SendAsync(HttpMethod.Get, $"{new Uri(storage).AbsolutePath}/{bucket}+segments", token))
            Assert.Equal(HttpStatusCode.NoContent, segments.StatusCode);
        using (var deleteBucket = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket)) Assert.Equal(HttpStatusCode.NoContent, deleteBucket.StatusCode);
    }

    [Fact]
    public async Task Bad_completions_get_S3s_errors_and_abort_removes_the_parts()
    {
        var bucket = await BucketAsync();
        var upload = await StartAsync(bucket, "k");
        var small = await PartAsync(bucket, "k", upload, 1, "tiny"u8.ToArray());
        var last = await PartAsync(bucket, "k", upload, 2, "end"u8.ToArray());
        using (var tooSmall = await CompleteAsync(bucket, "k", upload, (1, small), (2, last)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooSmall.StatusCode);
            Assert.Equal("EntityTooSmall", await S3Client.ErrorCodeAsync(tooSmall));
        }
        using (var wrongEtag = await CompleteAsync(bucket, "k", upload, (1, "\"0123456789abcdef0123456789abcdef\"")))
            Assert.Equal("InvalidPart", await S3Client.ErrorCodeAsync(wrongEtag));
        using (var order = await CompleteAsync(bucket, "k", upload, (2, last), (1, small)))
            Assert.Equal("InvalidPartOrder", await S3Client.ErrorCodeAsync(order));
        using (var malformed = await _s3.SendAsync(HttpMethod.Post, S3Client.PathOf(bucket, "k"), "<Complete"u8.ToArray(), query: $"uploadId={upload}"))
            Assert.Equal("MalformedXML", await S3Client.ErrorCodeAsync(malformed));
        using (var badNumber = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "k"), "x"u8.ToArray(), query: $"partNumber=10001&uploadId={upload}"))
            Assert.Equal("InvalidArgument", await S3Client.ErrorCodeAsync(badNumber));
        using (var noUpload = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "k"), "x"u8.ToArray(), query: $"partNumber=1&uploadId={new string('0', 32)}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, noUpload.StatusCode);
            Assert.Equal("NoSuchUpload", await S3Client.ErrorCodeAsync(noUpload));
        }
        // A single small part is a valid (last) part.
        using (var single = await CompleteAsync(bucket, "k", upload, (1, small)))
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);

        var aborted = await StartAsync(bucket, "gone");
        await PartAsync(bucket, "gone", aborted, 1, "data"u8.ToArray());
        using (var abort = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "gone"), query: $"uploadId={aborted}"))
            Assert.Equal(HttpStatusCode.NoContent, abort.StatusCode);
        using (var listParts = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "gone"), query: $"uploadId={aborted}"))
            Assert.Equal("NoSuchUpload", await S3Client.ErrorCodeAsync(listParts));
        using (var uploads = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "uploads"))
            Assert.Empty((await S3Client.XmlAsync(uploads)).Elements(Ns + "Upload"));
    }

    [Fact]
    public async Task Parts_can_be_copied_from_ranges_of_other_objects()
    {
        var bucket = await BucketAsync();
        var source = RandomNumberGenerator.GetBytes(FiveMiB + 100);
        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "src"), source)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var upload = await StartAsync(bucket, "assembled");
        using var first = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "assembled"), query: $"partNumber=1&uploadId={upload}",
            headers: new Dictionary<string, string> { ["x-amz-copy-source"] = $"/{bucket}/src", ["x-amz-copy-source-range"] = $"bytes=0-{FiveMiB - 1}" });
        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        var e1 = (await S3Client.XmlAsync(first)).Element(Ns + "ETag")!.Value;
        using var second = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "assembled"), query: $"partNumber=2&uploadId={upload}",
            headers: new Dictionary<string, string> { ["x-amz-copy-source"] = $"/{bucket}/src", ["x-amz-copy-source-range"] = $"bytes={FiveMiB}-{FiveMiB + 99}" });
        var e2 = (await S3Client.XmlAsync(second)).Element(Ns + "ETag")!.Value;
        using (var bad = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "assembled"), query: $"partNumber=3&uploadId={upload}",
                   headers: new Dictionary<string, string> { ["x-amz-copy-source"] = $"/{bucket}/src", ["x-amz-copy-source-range"] = $"bytes=0-{FiveMiB + 500}" }))
            Assert.Equal("InvalidRange", await S3Client.ErrorCodeAsync(bad));
        using (var complete = await CompleteAsync(bucket, "assembled", upload, (1, e1), (2, e2))) Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        using var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "assembled"));
        Assert.Equal(source, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Completing_a_finished_upload_again_answers_the_same_and_another_upload_id_stays_unknown()
    {
        var bucket = await BucketAsync();
        var upload = await StartAsync(bucket, "once");
        var etag = await PartAsync(bucket, "once", upload, 1, "x"u8.ToArray());
        string first;
        using (var done = await CompleteAsync(bucket, "once", upload, (1, etag)))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            first = (await S3Client.XmlAsync(done)).Element(Ns + "ETag")!.Value;
        }
        using (var again = await CompleteAsync(bucket, "once", upload, (1, etag)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(first, (await S3Client.XmlAsync(again)).Element(Ns + "ETag")!.Value);
        }
        using var other = await CompleteAsync(bucket, "once", new string('a', 32), (1, etag));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("NoSuchUpload", await S3Client.ErrorCodeAsync(other));
    }

    [Fact]
    public async Task Copies_and_part_copies_read_the_source_version_they_name()
    {
        var bucket = await BucketAsync();
        using (var versioning = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Encoding.UTF8.GetBytes(
                   "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>"), query: "versioning"))
            Assert.Equal(HttpStatusCode.OK, versioning.StatusCode);
        var older = "older-content"u8.ToArray();
        string olderId;
        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "src"), older)) olderId = put.Headers.GetValues("x-amz-version-id").Single();
        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "src"), "newer-content"u8.ToArray())) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var source = $"/{bucket}/src?versionId={Uri.EscapeDataString(olderId)}";

        using (var copy = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "copy"), headers: new Dictionary<string, string> { ["x-amz-copy-source"] = source }))
            Assert.Equal(HttpStatusCode.OK, copy.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "copy"))) Assert.Equal(older, await get.Content.ReadAsByteArrayAsync());

        var upload = await StartAsync(bucket, "assembled");
        using var part = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "assembled"), query: $"partNumber=1&uploadId={upload}",
            headers: new Dictionary<string, string> { ["x-amz-copy-source"] = source, ["x-amz-copy-source-range"] = "bytes=0-4" });
        Assert.True(part.StatusCode == HttpStatusCode.OK, await part.Content.ReadAsStringAsync());
        var etag = (await S3Client.XmlAsync(part)).Element(Ns + "ETag")!.Value;
        using (var complete = await CompleteAsync(bucket, "assembled", upload, (1, etag))) Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "assembled"))) Assert.Equal("older", await get.Content.ReadAsStringAsync());
    }
}

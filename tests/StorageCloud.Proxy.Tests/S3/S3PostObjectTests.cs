using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using StorageCloud.Proxy.S3;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>
/// Browser POST uploads (multipart/form-data to /bucket, authorized by a signed policy document): a valid form stores
/// the file with its fields' Content-Type and metadata and answers as success_action_status asks; bad signatures,
/// unknown keys, expired policies, fields the policy does not cover, files outside the content-length-range,
/// unsigned forms on a private bucket and broken bodies are refused with S3's codes, and leave no object behind.
/// </summary>
public sealed class S3PostObjectTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");

    private async Task<string> BucketAsync()
    {
        var bucket = "post-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private static DateTimeOffset InTenMinutes => DateTimeOffset.UtcNow.AddMinutes(10);

    /// <summary>The base64 policy document the form carries.</summary>
    private static string Policy(DateTimeOffset expires, params JsonNode[] conditions)
    {
        var document = new JsonObject
        {
            ["expiration"] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["conditions"] = new JsonArray(conditions),
        };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(document.ToJsonString()));
    }

    private static JsonNode Eq(string field, string value) => new JsonObject { [field] = value };

    private static JsonNode StartsWith(string field, string prefix) => new JsonArray((JsonNode)"starts-with", (JsonNode)("$" + field), (JsonNode)prefix);

    private static JsonNode LengthRange(long min, long max) => new JsonArray((JsonNode)"content-length-range", (JsonNode)min, (JsonNode)max);

    /// <summary>The fields that sign the policy with SigV2: base64 HMAC-SHA1 of the base64 policy under the secret.</summary>
    private static (string Name, string Value)[] SignedV2(string policy, string accessKey = "test:tester", string secret = "testing") =>
    [
        ("AWSAccessKeyId", accessKey), ("policy", policy),
        ("signature", Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(policy)))),
    ];

    /// <summary>POSTs the fields, then the file (last, as browsers send it), to /bucket with no Authorization header.</summary>
    private async Task<HttpResponseMessage> PostAsync(string bucket, IEnumerable<(string Name, string Value)> fields, byte[] file, string filename = "upload.bin")
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "file", filename);
        return await fixture.Host.Client.PostAsync($"{fixture.Host.BaseUrl}/{bucket}", form);
    }

    /// <summary>A body sent as it is under a multipart/form-data Content-Type naming the boundary.</summary>
    private async Task<HttpResponseMessage> PostRawAsync(string bucket, string boundary, string body)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=" + boundary);
        return await fixture.Host.Client.PostAsync($"{fixture.Host.BaseUrl}/{bucket}", content);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? inMessage = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        var error = XElement.Parse(text);
        Assert.Equal(code, error.Element("Code")!.Value);
        if (inMessage is not null) Assert.Contains(inMessage, error.Element("Message")!.Value);
    }

    private async Task AssertAbsentAsync(string bucket, string key)
    {
        using var head = await _s3.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, key));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    private static string QuotedMd5(byte[] data) => $"\"{Convert.ToHexStringLower(MD5.HashData(data))}\"";

    [Fact]
    public async Task A_SigV2_signed_form_stores_the_file_with_its_content_type_and_metadata()
    {
        var bucket = await BucketAsync();
        var data = RandomNumberGenerator.GetBytes(50_000);
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "docs/report.bin"), StartsWith("Content-Type", "application/"),
            Eq("x-amz-meta-color", "blue"), LengthRange(1, 1024 * 1024));
        using (var post = await PostAsync(bucket, [("key", "docs/report.bin"), ("Content-Type", "application/x-report"), ("x-amz-meta-color", "blue"), .. SignedV2(policy)], data))
        {
            Assert.True(post.StatusCode == HttpStatusCode.NoContent, await post.Content.ReadAsStringAsync());
            Assert.Equal(QuotedMd5(data), post.Headers.ETag!.Tag);
        }
        using var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "docs/report.bin"));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        // The Content-Type field, not the file part's own type, is the object's.
        Assert.Equal("application/x-report", get.Content.Headers.ContentType!.ToString());
        Assert.Equal("blue", get.Headers.GetValues("x-amz-meta-color").Single());
    }

    [Fact]
    public async Task Success_action_status_201_answers_a_PostResponse_naming_the_object()
    {
        var bucket = await BucketAsync();
        var data = "created with a form"u8.ToArray();
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "reports/q1.txt"), Eq("success_action_status", "201"));
        using (var post = await PostAsync(bucket, [("key", "reports/q1.txt"), ("success_action_status", "201"), .. SignedV2(policy)], data))
        {
            var text = await post.Content.ReadAsStringAsync();
            Assert.True(post.StatusCode == HttpStatusCode.Created, text);
            var xml = XElement.Parse(text);
            Assert.Equal("PostResponse", xml.Name.LocalName);
            Assert.Equal("reports/q1.txt", xml.Element("Key")!.Value);
            Assert.Equal(bucket, xml.Element("Bucket")!.Value);
            Assert.Equal(QuotedMd5(data), xml.Element("ETag")!.Value);
            Assert.Equal($"{fixture.Host.BaseUrl}/{bucket}/reports/q1.txt", xml.Element("Location")!.Value);
        }
        using var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "reports/q1.txt"));
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_SigV4_signed_form_is_accepted_and_a_wrong_SigV4_signature_refused()
    {
        var bucket = await BucketAsync();
        var amzDate = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{amzDate[..8]}/{S3Client.Region}/s3/aws4_request";
        var credential = "test:tester/" + scope;
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "v4.txt"), Eq("x-amz-algorithm", SigV4.Algorithm),
            Eq("x-amz-credential", credential), Eq("x-amz-date", amzDate));
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(SigV4.SigningKey("testing", scope), Encoding.UTF8.GetBytes(policy)));
        (string Name, string Value)[] fields =
            [("key", "v4.txt"), ("x-amz-algorithm", SigV4.Algorithm), ("x-amz-credential", credential), ("x-amz-date", amzDate), ("policy", policy)];

        using (var wrong = await PostAsync(bucket, [.. fields, ("x-amz-signature", new string('0', 64))], "forged"u8.ToArray()))
            await AssertErrorAsync(wrong, HttpStatusCode.Forbidden, "SignatureDoesNotMatch");
        await AssertAbsentAsync(bucket, "v4.txt");
        using (var post = await PostAsync(bucket, [.. fields, ("x-amz-signature", signature)], "signed with v4"u8.ToArray()))
            Assert.True(post.StatusCode == HttpStatusCode.NoContent, await post.Content.ReadAsStringAsync());
        using var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "v4.txt"));
        Assert.Equal("signed with v4", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Another_accounts_signed_form_and_a_form_the_bucket_policy_denies_store_nothing()
    {
        var bucket = await BucketAsync();
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "k"));
        // test2's own keys sign the form, for test's bucket: refused, and nothing lands in either account.
        using (var foreign = await PostAsync(bucket, [("key", "k"), .. SignedV2(policy, "test2:tester2", "testing2")], "x"u8.ToArray()))
            await AssertErrorAsync(foreign, HttpStatusCode.Forbidden, "AccessDenied");
        await AssertAbsentAsync(bucket, "k");
        var other = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "test2:tester2", "testing2");
        using (var inOwn = await other.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, "k")))
            Assert.NotEqual(HttpStatusCode.OK, inOwn.StatusCode);

        // The owner's bucket policy denies s3:PutObject: a form from the owner's own account is refused too.
        var deny = new JsonObject
        {
            ["Version"] = "2012-10-17",
            ["Statement"] = new JsonArray(new JsonObject
            {
                ["Effect"] = "Deny", ["Principal"] = "*", ["Action"] = "s3:PutObject", ["Resource"] = $"arn:aws:s3:::{bucket}/*",
            }),
        };
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Encoding.UTF8.GetBytes(deny.ToJsonString()), query: "policy"))
            Assert.True(put.IsSuccessStatusCode, $"policy: {(int)put.StatusCode}");
        using (var denied = await PostAsync(bucket, [("key", "k"), .. SignedV2(policy)], "x"u8.ToArray()))
            await AssertErrorAsync(denied, HttpStatusCode.Forbidden, "AccessDenied");
        await AssertAbsentAsync(bucket, "k");
    }

    [Fact]
    public async Task A_wrong_signature_or_an_unknown_access_key_is_refused_and_stores_nothing()
    {
        var bucket = await BucketAsync();
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "k"));
        using (var wrong = await PostAsync(bucket, [("key", "k"), .. SignedV2(policy, secret: "not-the-secret")], "x"u8.ToArray()))
            await AssertErrorAsync(wrong, HttpStatusCode.Forbidden, "SignatureDoesNotMatch");
        using (var unknown = await PostAsync(bucket, [("key", "k"), .. SignedV2(policy, "nobody:none", "x")], "x"u8.ToArray()))
            await AssertErrorAsync(unknown, HttpStatusCode.Forbidden, "InvalidAccessKeyId");
        await AssertAbsentAsync(bucket, "k");
    }

    [Fact]
    public async Task Expired_policies_fields_outside_the_policy_and_failed_conditions_are_AccessDenied()
    {
        var bucket = await BucketAsync();
        var expired = Policy(DateTimeOffset.UtcNow.AddMinutes(-5), Eq("bucket", bucket), Eq("key", "k"));
        using (var post = await PostAsync(bucket, [("key", "k"), .. SignedV2(expired)], "x"u8.ToArray()))
            await AssertErrorAsync(post, HttpStatusCode.Forbidden, "AccessDenied", "Policy expired");

        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "k"));
        using (var post = await PostAsync(bucket, [("key", "k"), ("x-amz-meta-sneaky", "1"), .. SignedV2(policy)], "x"u8.ToArray()))
            await AssertErrorAsync(post, HttpStatusCode.Forbidden, "AccessDenied", "Extra input fields: x-amz-meta-sneaky");
        using (var post = await PostAsync(bucket, [("key", "elsewhere"), .. SignedV2(policy)], "x"u8.ToArray()))
            await AssertErrorAsync(post, HttpStatusCode.Forbidden, "AccessDenied", "Policy Condition failed");
        await AssertAbsentAsync(bucket, "k");
        await AssertAbsentAsync(bucket, "elsewhere");
    }

    [Fact]
    public async Task Files_outside_the_content_length_range_are_refused_and_leave_no_object()
    {
        var bucket = await BucketAsync();
        var small = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "big"), LengthRange(0, 1024));
        using (var post = await PostAsync(bucket, [("key", "big"), .. SignedV2(small)], RandomNumberGenerator.GetBytes(100_000)))
            await AssertErrorAsync(post, HttpStatusCode.BadRequest, "EntityTooLarge");
        await AssertAbsentAsync(bucket, "big");

        var large = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "tiny"), LengthRange(100, 1024));
        using (var post = await PostAsync(bucket, [("key", "tiny"), .. SignedV2(large)], "ten bytes!"u8.ToArray()))
            await AssertErrorAsync(post, HttpStatusCode.BadRequest, "EntityTooSmall");
        await AssertAbsentAsync(bucket, "tiny");
    }

    [Fact]
    public async Task The_filename_variable_in_the_key_becomes_the_uploaded_files_name()
    {
        var bucket = await BucketAsync();
        var data = "a photo"u8.ToArray();
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), StartsWith("key", "uploads/"));
        using (var post = await PostAsync(bucket, [("key", "uploads/${filename}"), .. SignedV2(policy)], data, filename: "photo.jpg"))
            Assert.True(post.StatusCode == HttpStatusCode.NoContent, await post.Content.ReadAsStringAsync());
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "uploads/photo.jpg")))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        }
        await AssertAbsentAsync(bucket, "uploads/${filename}");
    }

    [Fact]
    public async Task An_unsigned_form_to_a_private_bucket_is_AccessDenied_and_stores_nothing()
    {
        var bucket = await BucketAsync();
        using (var post = await PostAsync(bucket, [("key", "anonymous.txt")], "from nobody"u8.ToArray()))
            await AssertErrorAsync(post, HttpStatusCode.Forbidden, "AccessDenied");
        await AssertAbsentAsync(bucket, "anonymous.txt");
    }

    [Fact]
    public async Task Bodies_that_are_not_well_formed_multipart_are_refused_with_400()
    {
        var bucket = await BucketAsync();
        using (var garbage = await PostRawAsync(bucket, "xyzzy", "this body never mentions its boundary"))
            await AssertErrorAsync(garbage, HttpStatusCode.BadRequest, "MalformedPOSTRequest");

        // A signed form whose file part is cut off before its closing boundary: refused, and nothing is stored.
        const string boundary = "cut-boundary";
        string Field(string name, string value) => $"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n";
        var policy = Policy(InTenMinutes, Eq("bucket", bucket), Eq("key", "cut.bin"));
        var body = Field("key", "cut.bin") + string.Concat(SignedV2(policy).Select(f => Field(f.Name, f.Value)))
            + $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            + "the file stops here, with no closing boundary";
        using (var truncated = await PostRawAsync(bucket, boundary, body))
            await AssertErrorAsync(truncated, HttpStatusCode.BadRequest, "MalformedPOSTRequest");
        await AssertAbsentAsync(bucket, "cut.bin");
    }
}

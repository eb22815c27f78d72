using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>Bucket policies and public access blocks: test:tester owns the buckets; test2:tester2 is another account's user.</summary>
public sealed class S3BucketPolicyTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private readonly S3Client _other = new(fixture.Host.Client, fixture.Host.BaseUrl, "test2:tester2", "testing2");
    private readonly S3Client _colleague = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester2", "testing2");
    private static readonly XNamespace Ns = S3Client.Ns;

    private async Task<string> BucketAsync()
    {
        var bucket = "pol-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private async Task PutAsync(string bucket, string key, string body)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string Policy(params JsonObject[] statements) =>
        new JsonObject { ["Version"] = "2012-10-17", ["Statement"] = new JsonArray(statements) }.ToJsonString();

    private static JsonObject Statement(string effect, JsonNode principal, string action, string resource, JsonObject? condition = null)
    {
        var statement = new JsonObject { ["Effect"] = effect, ["Principal"] = principal, ["Action"] = action, ["Resource"] = resource };
        if (condition is not null) statement["Condition"] = condition;
        return statement;
    }

    private static JsonNode Everyone() => JsonValue.Create("*")!;

    private static JsonNode Aws(string name) => new JsonObject { ["AWS"] = name };

    private async Task<HttpResponseMessage> PutPolicyAsync(string bucket, string policy) =>
        await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Encoding.UTF8.GetBytes(policy), query: "policy");

    [Fact]
    public async Task Policies_are_checked_stored_and_given_back()
    {
        var bucket = await BucketAsync();
        using (var none = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "policy"))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
            Assert.Equal("NoSuchBucketPolicy", await S3Client.ErrorCodeAsync(none));
        }
        string[] malformed =
        [
            "not json", "{\"Statement\":[]}",
            Policy(Statement("Allow", Everyone(), "s3:GetObject", "arn:aws:s3:::some-other-bucket/*")),
            Policy(Statement("Allow", Everyone(), "ec2:RunInstances", $"arn:aws:s3:::{bucket}/*")),
            Policy(Statement("Perhaps", Everyone(), "s3:GetObject", $"arn:aws:s3:::{bucket}/*")),
            Policy(Statement("Allow", Aws("arn:aws:iam::*:user/tester"), "s3:GetObject", $"arn:aws:s3:::{bucket}/*")),
            Policy(Statement("Allow", Everyone(), "s3:GetObject", $"arn:aws:s3:::{bucket}/*", new JsonObject { ["StringFoo"] = new JsonObject { ["s3:prefix"] = "a" } })),
        ];
        foreach (var bad in malformed)
        {
            using var refused = await PutPolicyAsync(bucket, bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("MalformedPolicy", await S3Client.ErrorCodeAsync(refused));
        }

        // Near the 20 KiB limit (and little compressible): kept whole across several sysmeta headers.
        var resources = new JsonArray();
        while (resources.ToJsonString().Length < 19 * 1024) resources.Add((JsonNode)$"arn:aws:s3:::{bucket}/{Guid.NewGuid():N}/*");
        var large = new JsonObject { ["Version"] = "2012-10-17", ["Statement"] = new JsonArray(new JsonObject
        {
            ["Effect"] = "Allow", ["Principal"] = Aws("arn:aws:iam::test2:root"), ["Action"] = "s3:GetObject", ["Resource"] = resources,
        }) }.ToJsonString();
        using (var put = await PutPolicyAsync(bucket, large)) Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "policy"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(large, await get.Content.ReadAsStringAsync());
        }
        using (var status = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "policyStatus"))
            Assert.Equal("false", (await S3Client.XmlAsync(status)).Element(Ns + "IsPublic")!.Value);
        using (var tooLarge = await PutPolicyAsync(bucket, new JsonObject { ["Statement"] = new JsonArray(Statement("Allow", Everyone(), "s3:GetObject", $"arn:aws:s3:::{bucket}/*")), ["Id"] = new string('x', 21 * 1024) }.ToJsonString()))
            Assert.Equal("MalformedPolicy", await S3Client.ErrorCodeAsync(tooLarge));

        // A policy open to everyone is public; deleting it leaves none.
        using (var put = await PutPolicyAsync(bucket, Policy(Statement("Allow", Everyone(), "s3:ListBucket", $"arn:aws:s3:::{bucket}"))))
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using (var status = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "policyStatus"))
            Assert.Equal("true", (await S3Client.XmlAsync(status)).Element(Ns + "IsPublic")!.Value);
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket, query: "policy")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "policy")) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Another_accounts_user_gets_what_the_policy_allows_and_nothing_more()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "k", "data");
        await PutAsync(bucket, "secret", "hidden");
        using (var denied = await _other.SendAsync(HttpMethod.Get, "/" + bucket))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(denied));
        }
        var policy = Policy(
            Statement("Allow", Everyone(), "s3:ListBucket", $"arn:aws:s3:::{bucket}"),
            Statement("Allow", Aws("arn:aws:iam::test2:user/tester2"), "s3:GetObject", $"arn:aws:s3:::{bucket}/k"),
            Statement("Allow", Aws("test2"), "s3:PutObject", $"arn:aws:s3:::{bucket}/drop/*"));
        using (var put = await PutPolicyAsync(bucket, policy)) Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);

        using (var list = await _other.SendAsync(HttpMethod.Get, "/" + bucket))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.Equal(2, (await S3Client.XmlAsync(list)).Elements(Ns + "Contents").Count());
        }
        using (var get = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"))) Assert.Equal("data", await get.Content.ReadAsStringAsync());
        using (var secret = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "secret"))) Assert.Equal(HttpStatusCode.Forbidden, secret.StatusCode);
        using (var drop = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "drop/x"), Encoding.UTF8.GetBytes("dropped"))) Assert.Equal(HttpStatusCode.OK, drop.StatusCode);
        using (var outside = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "k"), Encoding.UTF8.GetBytes("overwritten"))) Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        using (var config = await _other.SendAsync(HttpMethod.Get, "/" + bucket, query: "policy")) Assert.Equal(HttpStatusCode.Forbidden, config.StatusCode);
        using (var remove = await _other.SendAsync(HttpMethod.Delete, "/" + bucket, query: "policy")) Assert.Equal(HttpStatusCode.Forbidden, remove.StatusCode);
        using (var mine = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "drop/x"))) Assert.Equal("dropped", await mine.Content.ReadAsStringAsync());

        // Anonymous callers are named only by "*": they may list, not read.
        var http = fixture.Host.Client;
        using (var anonymousList = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}")) Assert.Equal(HttpStatusCode.OK, anonymousList.StatusCode);
        using (var anonymousGet = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/k")) Assert.Equal(HttpStatusCode.Forbidden, anonymousGet.StatusCode);
        using (var anonymousPut = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}/drop/y", new StringContent("x"))) Assert.Equal(HttpStatusCode.Forbidden, anonymousPut.StatusCode);
    }

    [Fact]
    public async Task Anonymous_writes_follow_the_policy_and_its_conditions()
    {
        var bucket = await BucketAsync();
        var policy = Policy(Statement("Allow", Everyone(), "s3:PutObject", $"arn:aws:s3:::{bucket}/inbox/*",
            new JsonObject { ["StringEqualsIfExists"] = new JsonObject { ["s3:x-amz-acl"] = "private" } }));
        using (var put = await PutPolicyAsync(bucket, policy)) Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        var http = fixture.Host.Client;
        using (var write = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}/inbox/a", new StringContent("anonymous"))) Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        using (var elsewhere = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}/a", new StringContent("x"))) Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
        using (var request = new HttpRequestMessage(HttpMethod.Put, $"{fixture.Host.BaseUrl}/{bucket}/inbox/b") { Content = new StringContent("x") })
        {
            request.Headers.Add("x-amz-acl", "public-read");
            using var publicWrite = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, publicWrite.StatusCode);
        }
        using (var read = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "inbox/a"))) Assert.Equal("anonymous", await read.Content.ReadAsStringAsync());
        using (var anonymousRead = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/inbox/a")) Assert.Equal(HttpStatusCode.Forbidden, anonymousRead.StatusCode);
    }

    [Fact]
    public async Task An_explicit_deny_refuses_the_owners_other_users_but_not_the_policys_repair()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "k", "data");
        var policy = Policy(
            Statement("Deny", Aws("arn:aws:iam::test:user/tester2"), "s3:GetObject", $"arn:aws:s3:::{bucket}/*"),
            Statement("Deny", Everyone(), "s3:DeleteObject", $"arn:aws:s3:::{bucket}/*"));
        using (var put = await PutPolicyAsync(bucket, policy)) Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using (var owner = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"))) Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        using (var colleague = await _colleague.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"))) Assert.Equal(HttpStatusCode.Forbidden, colleague.StatusCode);
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "k"))) Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        var multi = Encoding.UTF8.GetBytes("<Delete><Object><Key>k</Key></Object></Delete>");
        using (var deleteMany = await _s3.SendAsync(HttpMethod.Post, "/" + bucket, multi, query: "delete")) Assert.Equal(HttpStatusCode.Forbidden, deleteMany.StatusCode);
        using (var repair = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket, query: "policy")) Assert.Equal(HttpStatusCode.NoContent, repair.StatusCode);
        using (var deleted = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "k"))) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task Public_access_blocks_refuse_public_policies_and_acls_and_ignore_public_acls()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "k", "data");
        using (var none = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "publicAccessBlock"))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
            Assert.Equal("NoSuchPublicAccessBlockConfiguration", await S3Client.ErrorCodeAsync(none));
        }
        var config = Encoding.UTF8.GetBytes($"<PublicAccessBlockConfiguration xmlns=\"{Ns.NamespaceName}\"><BlockPublicAcls>true</BlockPublicAcls>"
            + "<IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>");
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, config, query: "publicAccessBlock")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "publicAccessBlock"))
        {
            var xml = await S3Client.XmlAsync(get);
            Assert.Equal("true", xml.Element(Ns + "BlockPublicAcls")!.Value);
            Assert.Equal("false", xml.Element(Ns + "IgnorePublicAcls")!.Value);
            Assert.Equal("true", xml.Element(Ns + "BlockPublicPolicy")!.Value);
        }
        using (var publicPolicy = await PutPolicyAsync(bucket, Policy(Statement("Allow", Everyone(), "s3:GetObject", $"arn:aws:s3:::{bucket}/*"))))
            Assert.Equal(HttpStatusCode.Forbidden, publicPolicy.StatusCode);
        using (var named = await PutPolicyAsync(bucket, Policy(Statement("Allow", Aws("test2"), "s3:GetObject", $"arn:aws:s3:::{bucket}/*"))))
            Assert.Equal(HttpStatusCode.NoContent, named.StatusCode);
        var publicRead = new Dictionary<string, string> { ["x-amz-acl"] = "public-read" };
        using (var acl = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: publicRead)) Assert.Equal(HttpStatusCode.Forbidden, acl.StatusCode);
        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "p"), Encoding.UTF8.GetBytes("x"), headers: publicRead))
            Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        using (var delete = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket, query: "publicAccessBlock")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        // IgnorePublicAcls: a public-read bucket is closed to other accounts and anonymous callers again.
        using (var acl = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: publicRead)) Assert.Equal(HttpStatusCode.OK, acl.StatusCode);
        using (var open = await fixture.Host.Client.GetAsync($"{fixture.Host.BaseUrl}/{bucket}")) Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var ignore = Encoding.UTF8.GetBytes("<PublicAccessBlockConfiguration><IgnorePublicAcls>true</IgnorePublicAcls></PublicAccessBlockConfiguration>");
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, ignore, query: "publicAccessBlock")) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var closed = await fixture.Host.Client.GetAsync($"{fixture.Host.BaseUrl}/{bucket}")) Assert.Equal(HttpStatusCode.Forbidden, closed.StatusCode);
        using (var mine = await _s3.SendAsync(HttpMethod.Get, "/" + bucket)) Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        // The named account's policy grant still works: only public ACLs are ignored.
        using (var granted = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"))) Assert.Equal("data", await granted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Conditions_on_tags_and_the_source_address_are_evaluated()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "tagged", "t");
        await PutAsync(bucket, "plain", "p");
        var tags = Encoding.UTF8.GetBytes("<Tagging><TagSet><Tag><Key>security</Key><Value>public</Value></Tag></TagSet></Tagging>");
        using (var tag = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "tagged"), tags, query: "tagging")) Assert.Equal(HttpStatusCode.OK, tag.StatusCode);
        var policy = Policy(
            Statement("Allow", Everyone(), "s3:GetObject", $"arn:aws:s3:::{bucket}/*",
                new JsonObject { ["StringEquals"] = new JsonObject { ["s3:ExistingObjectTag/security"] = "public" } }),
            Statement("Allow", Everyone(), "s3:ListBucket", $"arn:aws:s3:::{bucket}",
                new JsonObject { ["NotIpAddress"] = new JsonObject { ["aws:SourceIp"] = new JsonArray((JsonNode)"127.0.0.0/8", (JsonNode)"::1/128") } }));
        using (var put = await PutPolicyAsync(bucket, policy)) Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using (var tagged = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "tagged"))) Assert.Equal("t", await tagged.Content.ReadAsStringAsync());
        using (var plain = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "plain"))) Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        // The tests connect from the loopback address, which the listing grant leaves out.
        using (var list = await _other.SendAsync(HttpMethod.Get, "/" + bucket)) Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        using (var status = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "policyStatus"))
            Assert.Equal("true", (await S3Client.XmlAsync(status)).Element(Ns + "IsPublic")!.Value);
    }
}

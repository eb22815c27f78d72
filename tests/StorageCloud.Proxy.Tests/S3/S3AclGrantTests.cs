using System.Net;
using System.Text;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>S3 ACL grants: test:tester owns the buckets; test2:tester2 is another account's user.</summary>
public sealed class S3AclGrantTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private readonly S3Client _other = new(fixture.Host.Client, fixture.Host.BaseUrl, "test2:tester2", "testing2");
    private static readonly XNamespace Ns = S3Client.Ns;
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    private async Task<string> BucketAsync()
    {
        var bucket = "acl-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private async Task PutAsync(string bucket, string key, string body)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static byte[] Policy(params (string Grantee, string Permission)[] grants) => Encoding.UTF8.GetBytes(
        "<AccessControlPolicy xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><Owner><ID>test:tester</ID></Owner><AccessControlList>"
        + string.Concat(grants.Select(g => g.Grantee.StartsWith("http", StringComparison.Ordinal)
            ? $"<Grant><Grantee xsi:type=\"Group\"><URI>{g.Grantee}</URI></Grantee><Permission>{g.Permission}</Permission></Grant>"
            : $"<Grant><Grantee xsi:type=\"CanonicalUser\"><ID>{g.Grantee}</ID></Grantee><Permission>{g.Permission}</Permission></Grant>"))
        + "</AccessControlList></AccessControlPolicy>");

    private static List<(string Type, string Grantee, string Permission)> Grants(XElement policy) => policy.Element(Ns + "AccessControlList")!.Elements(Ns + "Grant")
        .Select(g => (g.Element(Ns + "Grantee")!.Attribute(Xsi + "type")!.Value,
            (g.Element(Ns + "Grantee")!.Element(Ns + "ID") ?? g.Element(Ns + "Grantee")!.Element(Ns + "URI"))!.Value, g.Element(Ns + "Permission")!.Value))
        .ToList();

    [Fact]
    public async Task A_read_grant_lets_another_account_list_and_an_object_grant_read()
    {
        var bucket = await BucketAsync();
        await PutAsync(bucket, "k", "data");
        using (var denied = await _other.SendAsync(HttpMethod.Get, "/" + bucket))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(denied));
        }
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Policy(("test2:tester2", "READ"), ("test:tester", "FULL_CONTROL")), query: "acl"))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "acl"))
        {
            var xml = await S3Client.XmlAsync(get);
            Assert.Equal("test:tester", xml.Element(Ns + "Owner")!.Element(Ns + "ID")!.Value);
            Assert.Equal(new[] { ("CanonicalUser", "test2:tester2", "READ"), ("CanonicalUser", "test:tester", "FULL_CONTROL") }, Grants(xml));
        }
        using (var list = await _other.SendAsync(HttpMethod.Get, "/" + bucket))
            Assert.Equal("k", (await S3Client.XmlAsync(list)).Element(Ns + "Contents")!.Element(Ns + "Key")!.Value);
        // Bucket READ is the listing only: the object, its ACL and the bucket's configuration stay closed.
        using (var read = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"))) Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        using (var acl = await _other.SendAsync(HttpMethod.Get, "/" + bucket, query: "acl")) Assert.Equal(HttpStatusCode.Forbidden, acl.StatusCode);
        using (var write = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "x"), Encoding.UTF8.GetBytes("x"))) Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        using (var cors = await _other.SendAsync(HttpMethod.Get, "/" + bucket, query: "versioning")) Assert.Equal(HttpStatusCode.Forbidden, cors.StatusCode);

        var grant = new Dictionary<string, string> { ["x-amz-grant-read"] = "id=test2:tester2" };
        using (var put = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "k"), query: "acl", headers: grant)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var read = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"))) Assert.Equal("data", await read.Content.ReadAsStringAsync());
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "k"), query: "acl"))
            Assert.Equal(new[] { ("CanonicalUser", "test2:tester2", "READ") }, Grants(await S3Client.XmlAsync(get)));
        using (var anonymous = await fixture.Host.Client.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/k")) Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_write_grant_lets_another_account_put_and_delete_objects_it_then_owns()
    {
        var bucket = await BucketAsync();
        using (var denied = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "drop"), Encoding.UTF8.GetBytes("x")))
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        var grant = new Dictionary<string, string> { ["x-amz-grant-write"] = "id=\"test2:tester2\"", ["x-amz-grant-full-control"] = "id=test:tester" };
        using (var put = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: grant)) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var write = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "drop"), Encoding.UTF8.GetBytes("dropped")))
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        using (var mine = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "drop"))) Assert.Equal("dropped", await mine.Content.ReadAsStringAsync());
        using (var acl = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "drop"), query: "acl"))
        {
            var xml = await S3Client.XmlAsync(acl);
            Assert.Equal("test2:tester2", xml.Element(Ns + "Owner")!.Element(Ns + "ID")!.Value);
            Assert.Equal(new[] { ("CanonicalUser", "test2:tester2", "FULL_CONTROL") }, Grants(xml));
        }
        // The writer reads what it wrote; nothing else of the bucket, and never its configuration.
        using (var own = await _other.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "drop"))) Assert.Equal("dropped", await own.Content.ReadAsStringAsync());
        using (var list = await _other.SendAsync(HttpMethod.Get, "/" + bucket)) Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        using (var aclChange = await _other.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: new Dictionary<string, string> { ["x-amz-acl"] = "public-read" }))
            Assert.Equal(HttpStatusCode.Forbidden, aclChange.StatusCode);
        var versioning = Encoding.UTF8.GetBytes("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>");
        using (var config = await _other.SendAsync(HttpMethod.Put, "/" + bucket, versioning, query: "versioning")) Assert.Equal(HttpStatusCode.Forbidden, config.StatusCode);
        using (var delete = await _other.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "drop"))) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "drop"))) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Public_read_write_lets_anonymous_callers_put_get_and_delete()
    {
        var bucket = "acl-" + Guid.NewGuid().ToString("N")[..10];
        using (var create = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, headers: new Dictionary<string, string> { ["x-amz-acl"] = "public-read-write" }))
            Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "acl"))
        {
            const string all = "http://acs.amazonaws.com/groups/global/AllUsers";
            Assert.Equal(new[] { ("Group", all, "READ"), ("Group", all, "WRITE"), ("CanonicalUser", "test:tester", "FULL_CONTROL") }, Grants(await S3Client.XmlAsync(get)));
        }
        var http = fixture.Host.Client;
        using (var put = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}/anon", new StringContent("anonymous"))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var read = await http.GetAsync($"{fixture.Host.BaseUrl}/{bucket}/anon")) Assert.Equal("anonymous", await read.Content.ReadAsStringAsync());
        using (var other = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "alt"), Encoding.UTF8.GetBytes("alt"))) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        using (var config = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}?acl", new StringContent(""))) Assert.Equal(HttpStatusCode.Forbidden, config.StatusCode);
        using (var delete = await http.DeleteAsync($"{fixture.Host.BaseUrl}/{bucket}/anon")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        // Private again: closed to both.
        using (var close = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: new Dictionary<string, string> { ["x-amz-acl"] = "private" }))
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        using (var put = await http.PutAsync($"{fixture.Host.BaseUrl}/{bucket}/again", new StringContent("x"))) Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        using (var alt = await _other.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, "again"), Encoding.UTF8.GetBytes("x"))) Assert.Equal(HttpStatusCode.Forbidden, alt.StatusCode);
    }

    [Fact]
    public async Task Unknown_grantees_are_refused()
    {
        var bucket = await BucketAsync();
        using (var email = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: new Dictionary<string, string> { ["x-amz-grant-read"] = "emailAddress=nobody@example.com" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, email.StatusCode);
            Assert.Equal("UnresolvableGrantByEmailAddress", await S3Client.ErrorCodeAsync(email));
        }
        using (var id = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, Policy(("_foo", "FULL_CONTROL")), query: "acl"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, id.StatusCode);
            Assert.Equal("InvalidArgument", await S3Client.ErrorCodeAsync(id));
        }
        var both = new Dictionary<string, string> { ["x-amz-acl"] = "private", ["x-amz-grant-read"] = "id=test2:tester2" };
        using (var mixed = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, query: "acl", headers: both)) Assert.Equal(HttpStatusCode.BadRequest, mixed.StatusCode);
        using (var list = await _other.SendAsync(HttpMethod.Get, "/" + bucket)) Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
    }
}

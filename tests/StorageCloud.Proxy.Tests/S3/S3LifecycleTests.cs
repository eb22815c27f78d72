using System.Net;
using System.Text;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>
/// Bucket lifecycle configuration (PUT/GET/DELETE /bucket?lifecycle): what is put is given back rule for rule (IDs,
/// filters, actions, a generated ID kept), DELETE leaves NoSuchLifecycleConfiguration, invalid documents are refused
/// with S3's error codes and change nothing, and another account's user can neither read nor set it.
/// </summary>
public sealed class S3LifecycleTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private readonly S3Client _other = new(fixture.Host.Client, fixture.Host.BaseUrl, "test2:tester2", "testing2");
    private static readonly XNamespace Ns = S3Client.Ns;

    private async Task<string> BucketAsync()
    {
        var bucket = "life-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private static string Configuration(params string[] rules) =>
        $"<LifecycleConfiguration xmlns=\"{Ns.NamespaceName}\">{string.Concat(rules)}</LifecycleConfiguration>";

    private static string Rule(string? id, string status, string actions, string filter = "<Filter><Prefix></Prefix></Filter>") =>
        "<Rule>" + (id is null ? "" : $"<ID>{id}</ID>") + filter + $"<Status>{status}</Status>" + actions + "</Rule>";

    private static string ExpireAfter(int days) => $"<Expiration><Days>{days}</Days></Expiration>";

    private static async Task<HttpResponseMessage> PutLifecycleAsync(S3Client client, string bucket, string document) =>
        await client.SendAsync(HttpMethod.Put, "/" + bucket, Encoding.UTF8.GetBytes(document), query: "lifecycle");

    private static async Task<HttpResponseMessage> GetLifecycleAsync(S3Client client, string bucket) =>
        await client.SendAsync(HttpMethod.Get, "/" + bucket, query: "lifecycle");

    /// <summary>The text of the element at the path below <paramref name="element"/>, or null when it is not there.</summary>
    private static string? At(XElement element, params string[] path)
    {
        XElement? e = element;
        foreach (var name in path) e = e?.Element(Ns + name);
        return e?.Value;
    }

    private async Task AssertNoConfigurationAsync(string bucket)
    {
        using var none = await GetLifecycleAsync(_s3, bucket);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        var error = await S3Client.XmlAsync(none);
        Assert.Equal("NoSuchLifecycleConfiguration", error.Element("Code")!.Value);
        Assert.Equal(bucket, error.Element("BucketName")!.Value);
    }

    [Fact]
    public async Task A_configuration_is_given_back_as_put_and_deleting_it_leaves_none()
    {
        var bucket = await BucketAsync();
        await AssertNoConfigurationAsync(bucket);
        var document = Configuration(
            Rule("expire-logs", "Enabled", ExpireAfter(30), "<Filter><Prefix>logs/</Prefix></Filter>"),
            Rule("tmp-tagged", "Disabled", ExpireAfter(7),
                "<Filter><And><Prefix>tmp/</Prefix><Tag><Key>class</Key><Value>scratch</Value></Tag></And></Filter>"),
            Rule("legacy", "Enabled", "<NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays></NoncurrentVersionExpiration>", "<Prefix>old/</Prefix>"),
            Rule(null, "Enabled", "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
                "<Filter><Prefix>uploads/</Prefix></Filter>"));
        using (var put = await PutLifecycleAsync(_s3, bucket, document))
            Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());

        string first;
        using (var get = await GetLifecycleAsync(_s3, bucket))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            first = await get.Content.ReadAsStringAsync();
        }
        var rules = XElement.Parse(first).Elements(Ns + "Rule").ToList();
        Assert.Equal(4, rules.Count);

        var logs = rules[0];
        Assert.Equal("expire-logs", At(logs, "ID"));
        Assert.Equal("logs/", At(logs, "Filter", "Prefix"));
        Assert.Null(logs.Element(Ns + "Filter")!.Element(Ns + "And"));
        Assert.Equal("Enabled", At(logs, "Status"));
        Assert.Equal("30", At(logs, "Expiration", "Days"));

        var tagged = rules[1];
        Assert.Equal("tmp-tagged", At(tagged, "ID"));
        Assert.Equal("tmp/", At(tagged, "Filter", "And", "Prefix"));
        Assert.Equal("class", At(tagged, "Filter", "And", "Tag", "Key"));
        Assert.Equal("scratch", At(tagged, "Filter", "And", "Tag", "Value"));
        Assert.Equal("Disabled", At(tagged, "Status"));
        Assert.Equal("7", At(tagged, "Expiration", "Days"));

        // The older schema's rule-level Prefix is given back as it came, without a Filter.
        var legacy = rules[2];
        Assert.Equal("legacy", At(legacy, "ID"));
        Assert.Equal("old/", At(legacy, "Prefix"));
        Assert.Null(legacy.Element(Ns + "Filter"));
        Assert.Equal("5", At(legacy, "NoncurrentVersionExpiration", "NoncurrentDays"));
        Assert.Null(legacy.Element(Ns + "Expiration"));

        // A rule sent without an ID gets one, kept with the configuration (the same on every read).
        var unnamed = rules[3];
        var generated = At(unnamed, "ID");
        Assert.NotNull(generated);
        Assert.InRange(generated.Trim().Length, 1, 255);
        Assert.Equal(4, rules.Select(r => At(r, "ID")).Distinct().Count());
        Assert.Equal("uploads/", At(unnamed, "Filter", "Prefix"));
        Assert.Equal("3", At(unnamed, "AbortIncompleteMultipartUpload", "DaysAfterInitiation"));
        using (var again = await GetLifecycleAsync(_s3, bucket))
            Assert.Equal(first, await again.Content.ReadAsStringAsync());

        // A new configuration replaces the old one whole.
        using (var replace = await PutLifecycleAsync(_s3, bucket, Configuration(Rule("only", "Enabled", ExpireAfter(1)))))
            Assert.Equal(HttpStatusCode.OK, replace.StatusCode);
        using (var replaced = await GetLifecycleAsync(_s3, bucket))
            Assert.Equal("only", At(Assert.Single((await S3Client.XmlAsync(replaced)).Elements(Ns + "Rule")), "ID"));

        using (var delete = await _s3.SendAsync(HttpMethod.Delete, "/" + bucket, query: "lifecycle"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await AssertNoConfigurationAsync(bucket);
    }

    [Fact]
    public async Task Invalid_configurations_are_refused_with_S3s_codes_and_keep_the_one_in_place()
    {
        var bucket = await BucketAsync();
        // 255 characters is the longest ID S3 takes.
        var longestId = new string('i', 255);
        using (var put = await PutLifecycleAsync(_s3, bucket, Configuration(Rule(longestId, "Enabled", ExpireAfter(1)))))
            Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());

        (string Document, string Code, string? Argument)[] refused =
        [
            (Configuration(Rule("zero-days", "Enabled", ExpireAfter(0))), "InvalidArgument", "Days"),
            (Configuration(Rule("twin", "Enabled", ExpireAfter(1)), Rule("twin", "Enabled", ExpireAfter(2))), "InvalidArgument", "ID"),
            (Configuration(Rule(new string('i', 256), "Enabled", ExpireAfter(1))), "InvalidArgument", "ID"),
            (Configuration(Rule("paused", "Paused", ExpireAfter(1))), "MalformedXML", null),
            (Configuration(Rule("lowercase", "enabled", ExpireAfter(1))), "MalformedXML", null),
            ($"<LifecycleConfiguration xmlns=\"{Ns.NamespaceName}\"><Rule><ID>cut</ID><Status>Enabled", "MalformedXML", null),
            ("not xml at all", "MalformedXML", null),
        ];
        foreach (var (document, code, argument) in refused)
        {
            using var response = await PutLifecycleAsync(_s3, bucket, document);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = await S3Client.XmlAsync(response);
            Assert.Equal(code, error.Element("Code")!.Value);
            if (argument is not null) Assert.Equal(argument, error.Element("ArgumentName")!.Value);
        }

        using var get = await GetLifecycleAsync(_s3, bucket);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var rule = Assert.Single((await S3Client.XmlAsync(get)).Elements(Ns + "Rule"));
        Assert.Equal(longestId, At(rule, "ID"));
        Assert.Equal("1", At(rule, "Expiration", "Days"));
    }

    [Fact]
    public async Task Another_accounts_user_can_neither_read_nor_set_nor_delete_the_configuration()
    {
        var bucket = await BucketAsync();
        using (var put = await PutLifecycleAsync(_s3, bucket, Configuration(Rule("owners-rule", "Enabled", ExpireAfter(10)))))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using (var read = await GetLifecycleAsync(_other, bucket))
        {
            Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
            var text = await read.Content.ReadAsStringAsync();
            Assert.Equal("AccessDenied", XElement.Parse(text).Element("Code")!.Value);
            Assert.DoesNotContain("owners-rule", text);
        }
        using (var write = await PutLifecycleAsync(_other, bucket, Configuration(Rule("intruders-rule", "Enabled", ExpireAfter(1)))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(write));
        }
        using (var delete = await _other.SendAsync(HttpMethod.Delete, "/" + bucket, query: "lifecycle"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
            Assert.Equal("AccessDenied", await S3Client.ErrorCodeAsync(delete));
        }

        using var mine = await GetLifecycleAsync(_s3, bucket);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        var rule = Assert.Single((await S3Client.XmlAsync(mine)).Elements(Ns + "Rule"));
        Assert.Equal("owners-rule", At(rule, "ID"));
        Assert.Equal("10", At(rule, "Expiration", "Days"));
    }
}

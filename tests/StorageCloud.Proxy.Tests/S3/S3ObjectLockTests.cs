using System.Net;
using System.Text;
using System.Xml.Linq;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>S3 Object Lock: bucket configuration, per-version retention and legal hold, and what they refuse.</summary>
public sealed class S3ObjectLockTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly S3Client _s3 = new(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
    private static readonly XNamespace Ns = S3Client.Ns;
    private static readonly Dictionary<string, string> Bypass = new() { ["x-amz-bypass-governance-retention"] = "true" };

    private async Task<string> BucketAsync(bool locked)
    {
        var bucket = "lock-" + Guid.NewGuid().ToString("N")[..10];
        var headers = locked ? new Dictionary<string, string> { ["x-amz-bucket-object-lock-enabled"] = "true" } : null;
        using var response = await _s3.SendAsync(HttpMethod.Put, "/" + bucket, headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return bucket;
    }

    private async Task<string> PutAsync(string bucket, string key, string body, IDictionary<string, string>? headers = null)
    {
        using var response = await _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), Encoding.UTF8.GetBytes(body), headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // An unversioned bucket's objects have no version id ("").
        return response.Headers.TryGetValues("x-amz-version-id", out var version) ? version.Single() : "";
    }

    private Task<HttpResponseMessage> SendXmlAsync(string bucket, string? key, string query, string xml, IDictionary<string, string>? headers = null) =>
        _s3.SendAsync(HttpMethod.Put, S3Client.PathOf(bucket, key), Encoding.UTF8.GetBytes(xml), query: query, headers: headers);

    private static string Configuration(string enabled, string? retention) =>
        $"<ObjectLockConfiguration xmlns=\"{Ns.NamespaceName}\"><ObjectLockEnabled>{enabled}</ObjectLockEnabled>"
        + (retention is null ? "" : $"<Rule><DefaultRetention>{retention}</DefaultRetention></Rule>") + "</ObjectLockConfiguration>";

    private static string Retention(string mode, DateTimeOffset until) =>
        $"<Retention xmlns=\"{Ns.NamespaceName}\"><Mode>{mode}</Mode><RetainUntilDate>{Date(until)}</RetainUntilDate></Retention>";

    private static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string LegalHold(string status) => $"<LegalHold xmlns=\"{Ns.NamespaceName}\"><Status>{status}</Status></LegalHold>";

    private async Task ExpectErrorAsync(Task<HttpResponseMessage> sending, HttpStatusCode status, string code)
    {
        using var response = await sending;
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await S3Client.ErrorCodeAsync(response));
    }

    private Task<HttpResponseMessage> DeleteVersionAsync(string bucket, string key, string version, IDictionary<string, string>? headers = null) =>
        _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, key), query: "versionId=" + Uri.EscapeDataString(version), headers: headers);

    [Fact]
    public async Task Lock_configuration_round_trips_and_is_validated()
    {
        var bucket = await BucketAsync(locked: true);
        using (var versioning = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "versioning"))
            Assert.Equal("Enabled", (await S3Client.XmlAsync(versioning)).Element(Ns + "Status")?.Value);
        using (var bare = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "object-lock"))
        {
            Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
            var doc = await S3Client.XmlAsync(bare);
            Assert.Equal("Enabled", doc.Element(Ns + "ObjectLockEnabled")?.Value);
            Assert.Null(doc.Element(Ns + "Rule"));
        }
        using (var put = await SendXmlAsync(bucket, null, "object-lock", Configuration("Enabled", "<Mode>GOVERNANCE</Mode><Days>1</Days>")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, "/" + bucket, query: "object-lock"))
        {
            var retention = (await S3Client.XmlAsync(get)).Element(Ns + "Rule")?.Element(Ns + "DefaultRetention");
            Assert.Equal("GOVERNANCE", retention?.Element(Ns + "Mode")?.Value);
            Assert.Equal("1", retention?.Element(Ns + "Days")?.Value);
            Assert.Null(retention?.Element(Ns + "Years"));
        }

        await ExpectErrorAsync(SendXmlAsync(bucket, null, "object-lock", Configuration("Enabled", "<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")),
            HttpStatusCode.BadRequest, "MalformedXML");
        await ExpectErrorAsync(SendXmlAsync(bucket, null, "object-lock", Configuration("Enabled", "<Mode>GOVERNANCE</Mode><Days>0</Days>")),
            HttpStatusCode.BadRequest, "InvalidRetentionPeriod");
        await ExpectErrorAsync(SendXmlAsync(bucket, null, "object-lock", Configuration("Enabled", "<Mode>GOVERNANCE</Mode><Years>-1</Years>")),
            HttpStatusCode.BadRequest, "InvalidRetentionPeriod");
        await ExpectErrorAsync(SendXmlAsync(bucket, null, "object-lock", Configuration("Enabled", "<Mode>governance</Mode><Years>1</Years>")),
            HttpStatusCode.BadRequest, "MalformedXML");
        await ExpectErrorAsync(SendXmlAsync(bucket, null, "object-lock", Configuration("Disabled", "<Mode>GOVERNANCE</Mode><Years>1</Years>")),
            HttpStatusCode.BadRequest, "MalformedXML");

        var plain = await BucketAsync(locked: false);
        await ExpectErrorAsync(_s3.SendAsync(HttpMethod.Get, "/" + plain, query: "object-lock"), HttpStatusCode.NotFound, "ObjectLockConfigurationNotFoundError");
        await ExpectErrorAsync(SendXmlAsync(plain, null, "object-lock", Configuration("Enabled", "<Mode>GOVERNANCE</Mode><Days>1</Days>")),
            HttpStatusCode.Conflict, "InvalidBucketState");
        await PutAsync(plain, "file", "abc");
        await ExpectErrorAsync(SendXmlAsync(plain, "file", "retention", Retention("GOVERNANCE", DateTimeOffset.UtcNow.AddDays(1))),
            HttpStatusCode.BadRequest, "InvalidRequest");
        await ExpectErrorAsync(_s3.SendAsync(HttpMethod.Get, S3Client.PathOf(plain, "file"), query: "legal-hold"), HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task Versioning_cannot_be_suspended_on_a_locked_bucket()
    {
        var bucket = await BucketAsync(locked: true);
        var suspend = $"<VersioningConfiguration xmlns=\"{Ns.NamespaceName}\"><Status>Suspended</Status></VersioningConfiguration>";
        await ExpectErrorAsync(SendXmlAsync(bucket, null, "versioning", suspend), HttpStatusCode.Conflict, "InvalidBucketState");
    }

    [Fact]
    public async Task A_version_under_compliance_retention_cannot_be_deleted_or_shortened()
    {
        var bucket = await BucketAsync(locked: true);
        var until = DateTimeOffset.UtcNow.AddDays(2);
        var version = await PutAsync(bucket, "kept", "compliance body", new Dictionary<string, string>
        {
            ["x-amz-object-lock-mode"] = "COMPLIANCE",
            ["x-amz-object-lock-retain-until-date"] = Date(until),
        });
        using (var head = await _s3.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, "kept")))
            Assert.Equal("COMPLIANCE", head.Headers.GetValues("x-amz-object-lock-mode").Single());

        await ExpectErrorAsync(DeleteVersionAsync(bucket, "kept", version), HttpStatusCode.Forbidden, "AccessDenied");
        await ExpectErrorAsync(DeleteVersionAsync(bucket, "kept", version, Bypass), HttpStatusCode.Forbidden, "AccessDenied");
        await ExpectErrorAsync(SendXmlAsync(bucket, "kept", "retention", Retention("COMPLIANCE", until.AddDays(-1)), Bypass), HttpStatusCode.Forbidden, "AccessDenied");
        await ExpectErrorAsync(SendXmlAsync(bucket, "kept", "retention", Retention("GOVERNANCE", until)), HttpStatusCode.Forbidden, "AccessDenied");

        // A plain DELETE still only adds a delete marker; the locked version stays, archived, and stays locked.
        using (var marker = await _s3.SendAsync(HttpMethod.Delete, S3Client.PathOf(bucket, "kept")))
        {
            Assert.Equal(HttpStatusCode.NoContent, marker.StatusCode);
            Assert.Equal("true", marker.Headers.GetValues("x-amz-delete-marker").Single());
        }
        await ExpectErrorAsync(DeleteVersionAsync(bucket, "kept", version), HttpStatusCode.Forbidden, "AccessDenied");
        using (var read = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "kept"), query: "versionId=" + Uri.EscapeDataString(version)))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal("compliance body", await read.Content.ReadAsStringAsync());
        }
        using (var retention = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "kept"), query: "retention&versionId=" + Uri.EscapeDataString(version)))
            Assert.Equal("COMPLIANCE", (await S3Client.XmlAsync(retention)).Element(Ns + "Mode")?.Value);

        // Multi-delete reports the locked version as an error of its own.
        var delete = $"<Delete xmlns=\"{Ns.NamespaceName}\"><Object><Key>kept</Key><VersionId>{version}</VersionId></Object></Delete>";
        using (var multi = await _s3.SendAsync(HttpMethod.Post, "/" + bucket, Encoding.UTF8.GetBytes(delete), query: "delete"))
        {
            var error = (await S3Client.XmlAsync(multi)).Element(Ns + "Error");
            Assert.Equal("AccessDenied", error?.Element(Ns + "Code")?.Value);
            Assert.Equal(version, error?.Element(Ns + "VersionId")?.Value);
        }
    }

    [Fact]
    public async Task Governance_retention_yields_to_the_bypass_header()
    {
        var bucket = await BucketAsync(locked: true);
        var version = await PutAsync(bucket, "gov", "abc");
        await ExpectErrorAsync(_s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "gov"), query: "retention"), HttpStatusCode.NotFound, "NoSuchObjectLockConfiguration");
        var until = DateTimeOffset.UtcNow.AddDays(3);
        using (var put = await SendXmlAsync(bucket, "gov", "retention", Retention("GOVERNANCE", until))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "gov"), query: "retention"))
            Assert.Equal("GOVERNANCE", (await S3Client.XmlAsync(get)).Element(Ns + "Mode")?.Value);

        await ExpectErrorAsync(SendXmlAsync(bucket, "gov", "retention", Retention("GOVERNANCE", until.AddDays(-1))), HttpStatusCode.Forbidden, "AccessDenied");
        using (var shorter = await SendXmlAsync(bucket, "gov", "retention", Retention("GOVERNANCE", until.AddDays(-1)), Bypass))
            Assert.Equal(HttpStatusCode.OK, shorter.StatusCode);
        await ExpectErrorAsync(DeleteVersionAsync(bucket, "gov", version), HttpStatusCode.Forbidden, "AccessDenied");
        using (var deleted = await DeleteVersionAsync(bucket, "gov", version, Bypass)) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await _s3.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, "gov"), query: "versionId=" + Uri.EscapeDataString(version));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_legal_hold_blocks_deletion_until_it_is_off()
    {
        var bucket = await BucketAsync(locked: true);
        var older = await PutAsync(bucket, "held", "first");
        await PutAsync(bucket, "held", "second");
        // The hold goes on the older, archived version named by its id, not on the current one.
        using (var on = await SendXmlAsync(bucket, "held", "legal-hold&versionId=" + Uri.EscapeDataString(older), LegalHold("ON"))) Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        using (var current = await _s3.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, "held")))
            Assert.False(current.Headers.Contains("x-amz-object-lock-legal-hold"));
        using (var get = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "held"), query: "legal-hold&versionId=" + Uri.EscapeDataString(older)))
            Assert.Equal("ON", (await S3Client.XmlAsync(get)).Element(Ns + "Status")?.Value);
        await ExpectErrorAsync(SendXmlAsync(bucket, "held", "legal-hold", LegalHold("abc")), HttpStatusCode.BadRequest, "MalformedXML");

        await ExpectErrorAsync(DeleteVersionAsync(bucket, "held", older, Bypass), HttpStatusCode.Forbidden, "AccessDenied");
        using (var off = await SendXmlAsync(bucket, "held", "legal-hold&versionId=" + Uri.EscapeDataString(older), LegalHold("OFF"))) Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        using var deleted = await DeleteVersionAsync(bucket, "held", older);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task New_objects_take_the_default_retention()
    {
        var bucket = await BucketAsync(locked: true);
        using (var put = await SendXmlAsync(bucket, null, "object-lock", Configuration("Enabled", "<Mode>GOVERNANCE</Mode><Days>1</Days>")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var version = await PutAsync(bucket, "defaulted", "abc");
        using (var head = await _s3.SendAsync(HttpMethod.Head, S3Client.PathOf(bucket, "defaulted")))
        {
            Assert.Equal("GOVERNANCE", head.Headers.GetValues("x-amz-object-lock-mode").Single());
            var until = DateTimeOffset.Parse(head.Headers.GetValues("x-amz-object-lock-retain-until-date").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(until, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
        }
        await ExpectErrorAsync(DeleteVersionAsync(bucket, "defaulted", version), HttpStatusCode.Forbidden, "AccessDenied");
        using var deleted = await DeleteVersionAsync(bucket, "defaulted", version, Bypass);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task Through_the_swift_api_a_locked_version_is_neither_deleted_nor_stripped_of_its_lock()
    {
        var bucket = await BucketAsync(locked: true);
        var old = await PutAsync(bucket, "held", "first");
        using (var hold = await SendXmlAsync(bucket, "held", "legal-hold&versionId=" + Uri.EscapeDataString(old), LegalHold("ON"))) Assert.Equal(HttpStatusCode.OK, hold.StatusCode);
        var current = await PutAsync(bucket, "held", "second");
        using (var retain = await SendXmlAsync(bucket, "held", "retention&versionId=" + Uri.EscapeDataString(current), Retention("COMPLIANCE", DateTimeOffset.UtcNow.AddDays(1))))
            Assert.Equal(HttpStatusCode.OK, retain.StatusCode);
        var swift = $"/v1/AUTH_test/{bucket}/held";
        var token = fixture.Token;
        using (var deleteOld = await fixture.Host.SendAsync(HttpMethod.Delete, $"{swift}?version-id={old}", token)) Assert.Equal(HttpStatusCode.Forbidden, deleteOld.StatusCode);
        using (var deleteCurrent = await fixture.Host.SendAsync(HttpMethod.Delete, $"{swift}?version-id={current}", token)) Assert.Equal(HttpStatusCode.Forbidden, deleteCurrent.StatusCode);
        using (var post = await fixture.Host.SendAsync(HttpMethod.Post, swift, token, null, ("X-Object-Meta-X", "y"))) Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        using (var retained = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "held"), query: "retention&versionId=" + Uri.EscapeDataString(current)))
            Assert.Equal("COMPLIANCE", (await S3Client.XmlAsync(retained)).Element(Ns + "Mode")?.Value);
        using (var first = await _s3.SendAsync(HttpMethod.Get, S3Client.PathOf(bucket, "held"), query: "versionId=" + Uri.EscapeDataString(old)))
            Assert.Equal("first", await first.Content.ReadAsStringAsync());
    }
}

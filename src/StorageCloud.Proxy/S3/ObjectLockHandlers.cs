using System.Globalization;
using System.Xml;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// S3 Object Lock operations: Get/PutObjectLockConfiguration (?object-lock), Get/PutObjectRetention (?retention) and
/// Get/PutObjectLegalHold (?legal-hold), per version. The rules themselves are in <see cref="ObjectLock"/>.
/// </summary>
public static class ObjectLockHandlers
{
    // Transient sysmeta is replaced as a whole by a Swift POST: these are carried along like user metadata.
    private static readonly string[] PassedHeaders = ["Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"];

    /// <summary>True for the requests these handlers answer.</summary>
    public static bool Handles(S3Request r) => r.Has("object-lock") || r.Has("retention") || r.Has("legal-hold");

    /// <summary>Answers an object lock request.</summary>
    public static Task HandleAsync(S3Request r)
    {
        var method = r.Context.Request.Method;
        if (r.Key is null)
        {
            return method switch
            {
                "PUT" when r.Has("object-lock") => PutConfigurationAsync(r),
                "GET" when r.Has("object-lock") => GetConfigurationAsync(r),
                _ => throw MethodNotAllowed(),
            };
        }
        return method switch
        {
            "PUT" when r.Has("retention") => PutRetentionAsync(r),
            "GET" when r.Has("retention") => GetRetentionAsync(r),
            "PUT" when r.Has("legal-hold") => PutLegalHoldAsync(r),
            "GET" when r.Has("legal-hold") => GetLegalHoldAsync(r),
            _ => throw MethodNotAllowed(),
        };
    }

    /// <summary>
    /// Container PUT headers for CreateBucket with x-amz-bucket-object-lock-enabled: true: versioning on (S3 requires
    /// it for object lock) and the lock switch recorded.
    /// </summary>
    public static List<KeyValuePair<string, string>> CreateBucketHeaders(S3Request r)
    {
        var flag = r.Context.Request.Headers["x-amz-bucket-object-lock-enabled"].ToString().Trim();
        if (!string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase)) return [];
        return [new("X-Versions-Enabled", "true"), new(ObjectLock.BucketSysmeta, new ObjectLock.BucketConfig(true, null, null, 0).Encode())];
    }

    /// <summary>PutBucketVersioning's check: a bucket with object lock may not have versioning suspended.</summary>
    public static async Task CheckSuspendAsync(S3Request r)
    {
        var container = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (ObjectLock.ConfigOf(container).Enabled)
            throw new S3Error("InvalidBucketState", 409, "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.");
    }

    private static async Task<ObjectLock.BucketConfig> BucketConfigAsync(S3Request r)
    {
        var container = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!container.IsSuccess) throw S3Error.FromSwift(container.Status, r.Bucket, null);
        return ObjectLock.ConfigOf(container);
    }

    /// <summary>PUT /bucket?object-lock.</summary>
    private static async Task PutConfigurationAsync(S3Request r)
    {
        var config = await BucketConfigAsync(r);
        // Read the body first: a document that does not validate is MalformedXML whatever the bucket.
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        var wanted = ParseConfiguration(doc);
        if (!config.Enabled)
            throw new S3Error("InvalidBucketState", 409, "Object Lock configuration cannot be enabled on existing buckets.") { Extra = [("BucketName", r.Bucket!)] };
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!), S3Request.Headers((ObjectLock.BucketSysmeta, wanted.Encode())));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>An ObjectLockConfiguration document, validated as S3 (and Ceph's tests) expect.</summary>
    private static ObjectLock.BucketConfig ParseConfiguration(XmlDocument doc)
    {
        if (doc.DocumentElement is not { LocalName: "ObjectLockConfiguration" } root) throw S3Error.MalformedXml();
        if (S3Xml.ChildText(root, "ObjectLockEnabled") != "Enabled") throw S3Error.MalformedXml();
        if (S3Xml.Children(root, "Rule").FirstOrDefault() is not { } rule) return new(true, null, null, 0);
        if (S3Xml.Children(rule, "DefaultRetention").FirstOrDefault() is not { } retention) throw S3Error.MalformedXml();
        var mode = S3Xml.ChildText(retention, "Mode");
        if (mode is not ("GOVERNANCE" or "COMPLIANCE")) throw S3Error.MalformedXml();
        var days = S3Xml.ChildText(retention, "Days");
        var years = S3Xml.ChildText(retention, "Years");
        if ((days is null) == (years is null)) throw S3Error.MalformedXml();
        var unit = days is not null ? "Days" : "Years";
        var text = days ?? years!;
        var limit = days is not null ? 36500 : 100;
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var period)) throw S3Error.MalformedXml();
        if (period <= 0 || period > limit)
            throw new S3Error("InvalidRetentionPeriod", 400, "Default retention period must be a positive integer value.");
        return new(true, mode, unit, period);
    }

    /// <summary>GET /bucket?object-lock.</summary>
    private static async Task GetConfigurationAsync(S3Request r)
    {
        var config = await BucketConfigAsync(r);
        if (!config.Enabled)
            throw new S3Error("ObjectLockConfigurationNotFoundError", 404, "Object Lock configuration does not exist for this bucket") { Extra = [("BucketName", r.Bucket!)] };
        var xml = new S3Xml("ObjectLockConfiguration").Element("ObjectLockEnabled", "Enabled");
        if (config.Mode is not null)
            xml.Open("Rule").Open("DefaultRetention").Element("Mode", config.Mode).Element(config.Unit!, config.Period).Close("DefaultRetention").Close("Rule");
        await xml.WriteAsync(r.Context);
    }

    /// <summary>The version the request names (the current one without versionId), after checking the bucket has object lock.</summary>
    private static async Task<SwiftAnswer> LockedVersionAsync(S3Request r)
    {
        if (!(await BucketConfigAsync(r)).Enabled) throw ObjectLock.MissingConfiguration();
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r)));
        if (!head.IsSuccess)
        {
            if (head.Status == 404 && r.Query("versionId") is { } id)
                throw new S3Error("NoSuchVersion", 404, "The specified version does not exist.") { Extra = [("Key", r.Key!), ("VersionId", id)] };
            throw S3Error.FromSwift(head.Status, r.Bucket, r.Key);
        }
        if (head.Header("X-Object-Version-Id") is { } version) r.Context.Response.Headers["x-amz-version-id"] = version;
        return head;
    }

    /// <summary>PUT /bucket/key?retention: COMPLIANCE may only be extended; GOVERNANCE may be shortened, changed or removed with the bypass header.</summary>
    private static async Task PutRetentionAsync(S3Request r)
    {
        var head = await LockedVersionAsync(r);
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        if (doc.DocumentElement is not { LocalName: "Retention" } root) throw S3Error.MalformedXml();
        var mode = S3Xml.ChildText(root, "Mode");
        var untilText = S3Xml.ChildText(root, "RetainUntilDate");
        var now = DateTimeOffset.UtcNow;
        DateTimeOffset? until = null;
        if (mode is not null || untilText is not null)
        {
            if (mode is not ("GOVERNANCE" or "COMPLIANCE") || untilText is null || !ObjectLock.TryParseDate(untilText.Trim(), out var parsed)) throw S3Error.MalformedXml();
            if (parsed <= now) throw S3Error.InvalidArgument("The retain until date must be in the future!", "RetainUntilDate", untilText);
            until = parsed;
        }
        var current = ObjectLock.StateOf(head);
        if (current.Retained(now))
        {
            // Only a stricter retention needs no permission: the same mode, kept at least as long.
            var stricter = mode == current.Mode && until >= current.Until;
            if (!stricter && (current.Mode != "GOVERNANCE" || !ObjectLock.Bypass(r)))
                throw S3Error.AccessDenied("Access Denied: the object is under retention that this request would shorten or change.");
        }
        await SetAsync(r, head, [(ObjectLock.ModeSysmeta, mode), (ObjectLock.UntilSysmeta, until is { } u ? S3Xml.Time(u) : null)]);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket/key?retention (NoSuchObjectLockConfiguration when the version has none).</summary>
    private static async Task GetRetentionAsync(S3Request r)
    {
        var state = ObjectLock.StateOf(await LockedVersionAsync(r));
        if (state.Mode is null || state.Until is not { } until) throw NoSuchObjectLockConfiguration();
        await new S3Xml("Retention").Element("Mode", state.Mode).Element("RetainUntilDate", S3Xml.Time(until)).WriteAsync(r.Context);
    }

    /// <summary>PUT /bucket/key?legal-hold: ON or OFF.</summary>
    private static async Task PutLegalHoldAsync(S3Request r)
    {
        var head = await LockedVersionAsync(r);
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        if (doc.DocumentElement is not { LocalName: "LegalHold" } root) throw S3Error.MalformedXml();
        var status = S3Xml.ChildText(root, "Status");
        if (status is not ("ON" or "OFF")) throw S3Error.MalformedXml();
        await SetAsync(r, head, [(ObjectLock.LegalHoldSysmeta, status)]);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket/key?legal-hold (NoSuchObjectLockConfiguration when none was ever set).</summary>
    private static async Task GetLegalHoldAsync(S3Request r)
    {
        var state = ObjectLock.StateOf(await LockedVersionAsync(r));
        if (state.LegalHold is null) throw NoSuchObjectLockConfiguration();
        await new S3Xml("LegalHold").Element("Status", state.LegalHold).WriteAsync(r.Context);
    }

    /// <summary>
    /// Sets (null: clears) transient-sysmeta items of the version <paramref name="head"/> describes, by a Swift POST
    /// to that version (the versioning middleware directs a POST ?version-id= to a stored version), carrying the
    /// version's user metadata, standard headers and other transient sysmeta along, since a Swift POST replaces them.
    /// </summary>
    private static async Task SetAsync(S3Request r, SwiftAnswer head, (string Name, string? Value)[] changes)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (header, values) in head.Headers)
        {
            if (Array.Exists(changes, c => c.Name.Equals(header, StringComparison.OrdinalIgnoreCase))) continue;
            if (header.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || header.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase)
                || Array.Exists(PassedHeaders, p => p.Equals(header, StringComparison.OrdinalIgnoreCase)))
                headers.Add(new(header, values.ToString()));
        }
        foreach (var (name, value) in changes)
            if (value is not null) headers.Add(new(name, value));
        // The version the HEAD found, by its id: a newer version written in between is not the one to change.
        var version = head.Header("X-Object-Version-Id");
        var query = version is null or "null" ? "" : "version-id=" + Uri.EscapeDataString(version);
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!, r.Key, query), headers);
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, r.Key);
    }

    private static S3Error NoSuchObjectLockConfiguration() =>
        new("NoSuchObjectLockConfiguration", 404, "The specified object does not have a ObjectLock configuration");

    private static S3Error MethodNotAllowed() => new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
}

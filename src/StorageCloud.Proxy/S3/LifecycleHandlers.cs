using System.Globalization;
using System.IO.Compression;
using System.Xml;

namespace StorageCloud.Proxy.S3;

/// <summary>What a lifecycle rule applies to: every condition given must hold (key prefix, tags, object size).</summary>
/// <param name="And">The conditions were (or, being several, are shown) inside an And element.</param>
public sealed record LifecycleFilter(string? Prefix, IReadOnlyList<(string Key, string Value)> Tags, long? SizeGreaterThan, long? SizeLessThan, bool And);

/// <summary>A Transition (Days or Date) or a NoncurrentVersionTransition (Days are NoncurrentDays).</summary>
public sealed record LifecycleTransition(int? Days, DateTimeOffset? Date, string StorageClass, int? NewerNoncurrentVersions = null);

/// <summary>One rule of a bucket's lifecycle configuration, as validated and stored.</summary>
public sealed record LifecycleRule(string Id, bool Enabled)
{
    /// <summary>The rule-level Prefix of the older schema (null when the rule has a Filter).</summary>
    public string? Prefix { get; init; }

    /// <summary>The Filter, or null when the rule used the rule-level Prefix.</summary>
    public LifecycleFilter? Filter { get; init; }

    public int? ExpirationDays { get; init; }
    public DateTimeOffset? ExpirationDate { get; init; }
    public bool? ExpiredObjectDeleteMarker { get; init; }
    public int? NoncurrentDays { get; init; }
    public int? NewerNoncurrentVersions { get; init; }
    public int? AbortIncompleteUploadDays { get; init; }
    public IReadOnlyList<LifecycleTransition> Transitions { get; init; } = [];
    public IReadOnlyList<LifecycleTransition> NoncurrentTransitions { get; init; } = [];

    /// <summary>The key prefix the rule is limited to, whichever schema gave it.</summary>
    public string KeyPrefix => Filter is null ? Prefix ?? "" : Filter.Prefix ?? "";
}

/// <summary>
/// Bucket lifecycle configuration: Put/Get/DeleteBucketLifecycle(Configuration). The rules are validated as AWS
/// and Ceph RGW validate them (RGW's leniencies where s3-tests rely on them) and kept, in the form GET answers, in
/// container sysmeta. Nothing acts on them yet: objects do not expire.
/// </summary>
public static class LifecycleHandlers
{
    private const string Sysmeta = "X-Container-Sysmeta-S3-Lifecycle";

    /// <summary>S3's limit on rules per configuration.</summary>
    public const int MaxRules = 1000;

    // Container sysmeta travels as an HTTP header to the container servers (Kestrel takes 32 KiB of headers in all):
    // the stored form is compressed, and a configuration that is still too large is refused rather than half-kept.
    private const int MaxStoredLength = 16 * 1024;

    /// <summary>The storage classes this store has: a transition to any other could never happen.</summary>
    private static readonly string[] StorageClasses = ["STANDARD"];

    private static readonly string[] DateFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd"];

    /// <summary>PUT /bucket?lifecycle: replaces the configuration.</summary>
    public static async Task PutAsync(S3Request r)
    {
        var rules = Parse(await S3Xml.ReadAsync(r.Context));
        var stored = Pack(Write(rules).ToBytes());
        if (stored.Length > MaxStoredLength) throw new S3Error("InvalidRequest", 400, "The lifecycle configuration is too large to be stored.");
        await BucketSysmeta.WriteAsync(r, Sysmeta, stored, 200);
    }

    /// <summary>GET /bucket?lifecycle (NoSuchLifecycleConfiguration when none).</summary>
    public static async Task GetAsync(S3Request r) =>
        await BucketSysmeta.AnswerXmlAsync(r, Unpack(await BucketSysmeta.ReadAsync(r, Sysmeta)
            ?? throw new S3Error("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist") { Extra = [("BucketName", r.Bucket!)] }));

    /// <summary>DELETE /bucket?lifecycle.</summary>
    public static Task DeleteAsync(S3Request r) => BucketSysmeta.WriteAsync(r, Sysmeta, "", 204);

    /// <summary>The rules kept in a container's sysmeta value (for whatever comes to act on them).</summary>
    public static List<LifecycleRule> Load(string stored)
    {
        var doc = new XmlDocument { XmlResolver = null, PreserveWhitespace = true };
        using var reader = XmlReader.Create(new MemoryStream(Unpack(stored)), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        doc.Load(reader);
        return Parse(doc);
    }

    /// <summary>The rules of a LifecycleConfiguration document; MalformedXML, InvalidArgument or InvalidRequest when it is not a valid one.</summary>
    public static List<LifecycleRule> Parse(XmlDocument doc)
    {
        if (doc.DocumentElement is not { LocalName: "LifecycleConfiguration" } root) throw S3Error.MalformedXml();
        Only(root, "Rule");
        var rules = new List<LifecycleRule>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var element in S3Xml.Children(root, "Rule"))
        {
            if (rules.Count == MaxRules) throw new S3Error("InvalidRequest", 400, $"The number of lifecycle rules must not exceed {MaxRules}.");
            var rule = ParseRule(element);
            if (!ids.Add(rule.Id)) throw S3Error.InvalidArgument("Rule ID must be unique. Found same ID for more than one rule", "ID", rule.Id);
            rules.Add(rule);
        }
        if (rules.Count == 0) throw S3Error.MalformedXml();
        return rules;
    }

    private static LifecycleRule ParseRule(XmlElement e)
    {
        Only(e, "ID", "Prefix", "Filter", "Status", "Expiration", "Transition", "NoncurrentVersionTransition", "NoncurrentVersionExpiration",
            "AbortIncompleteMultipartUpload");
        // As S3 and RGW: a rule without an ID gets one (S3's are base64 of a GUID's text), kept so GET shows the same.
        var id = Text(e, "ID") is { Length: > 0 } given ? given : Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Guid.NewGuid().ToString()));
        if (id.Length > 255) throw S3Error.InvalidArgument("ID length should not exceed allowed limit of 255", "ID", id);
        var enabled = Text(e, "Status")?.Trim() switch
        {
            "Enabled" => true,
            "Disabled" => false,
            _ => throw S3Error.MalformedXml(),
        };
        var prefix = Text(e, "Prefix");
        var filterElement = One(e, "Filter");
        // The older schema's rule-level Prefix is still sent (boto2, the deprecated PutBucketLifecycle); one of the
        // two must say which keys the rule covers, and both at once would leave it ambiguous.
        if ((prefix is null) == (filterElement is null)) throw S3Error.MalformedXml();
        var filter = filterElement is null ? null : ParseFilter(filterElement);
        var rule = new LifecycleRule(id, enabled) { Prefix = filterElement is null ? prefix : null, Filter = filter };

        if (One(e, "Expiration") is { } expiration)
        {
            Only(expiration, "Days", "Date", "ExpiredObjectDeleteMarker");
            var days = Number(expiration, "Days");
            var date = Date(expiration, "Date");
            var marker = Bool(expiration, "ExpiredObjectDeleteMarker");
            if ((days is null ? 0 : 1) + (date is null ? 0 : 1) + (marker is null ? 0 : 1) != 1) throw S3Error.MalformedXml();
            if (days <= 0) throw S3Error.InvalidArgument("'Days' for Expiration action must be a positive integer", "Days", Show(days));
            if (marker == true && filter is { Tags.Count: > 0 }) throw S3Error.InvalidArgument("ExpiredObjectDeleteMarker cannot be specified with tags.");
            rule = rule with { ExpirationDays = days, ExpirationDate = date, ExpiredObjectDeleteMarker = marker };
        }

        if (One(e, "NoncurrentVersionExpiration") is { } noncurrent)
        {
            Only(noncurrent, "NoncurrentDays", "NewerNoncurrentVersions");
            var days = Number(noncurrent, "NoncurrentDays") ?? throw S3Error.MalformedXml();
            if (days <= 0) throw S3Error.InvalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer", "NoncurrentDays", Show(days));
            rule = rule with { NoncurrentDays = days, NewerNoncurrentVersions = Newer(noncurrent) };
        }

        if (One(e, "AbortIncompleteMultipartUpload") is { } abort)
        {
            Only(abort, "DaysAfterInitiation");
            var days = Number(abort, "DaysAfterInitiation") ?? throw S3Error.MalformedXml();
            if (days <= 0) throw S3Error.InvalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer", "DaysAfterInitiation", Show(days));
            if (filter is { Tags.Count: > 0 }) throw new S3Error("InvalidRequest", 400, "AbortIncompleteMultipartUpload cannot be specified with Tags.");
            rule = rule with { AbortIncompleteUploadDays = days };
        }

        var transitions = new List<LifecycleTransition>();
        foreach (var t in S3Xml.Children(e, "Transition"))
        {
            Only(t, "Days", "Date", "StorageClass");
            var days = Number(t, "Days");
            var date = Date(t, "Date");
            if ((days is null) == (date is null)) throw S3Error.MalformedXml();
            if (days < 0) throw S3Error.InvalidArgument("'Days' for Transition action must be nonnegative", "Days", Show(days));
            transitions.Add(new LifecycleTransition(days, date, StorageClass(t)));
        }
        var noncurrentTransitions = new List<LifecycleTransition>();
        foreach (var t in S3Xml.Children(e, "NoncurrentVersionTransition"))
        {
            Only(t, "NoncurrentDays", "StorageClass", "NewerNoncurrentVersions");
            var days = Number(t, "NoncurrentDays") ?? throw S3Error.MalformedXml();
            if (days < 0) throw S3Error.InvalidArgument("'NoncurrentDays' for NoncurrentVersionTransition action must be nonnegative", "NoncurrentDays", Show(days));
            noncurrentTransitions.Add(new LifecycleTransition(days, null, StorageClass(t), Newer(t)));
        }
        if (transitions.Select(t => t.StorageClass).Distinct().Count() != transitions.Count
            || noncurrentTransitions.Select(t => t.StorageClass).Distinct().Count() != noncurrentTransitions.Count)
            throw S3Error.InvalidArgument("'StorageClass' must be different for each transition action of the same rule");
        // As RGW and S3: a rule counts its time one way, in days after creation or from a date.
        var byDays = rule.ExpirationDays is not null || transitions.Any(t => t.Days is not null);
        var byDate = rule.ExpirationDate is not null || transitions.Any(t => t.Date is not null);
        if (byDays && byDate) throw S3Error.InvalidArgument("Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule");
        rule = rule with { Transitions = transitions, NoncurrentTransitions = noncurrentTransitions };

        if (rule.ExpiredObjectDeleteMarker is null && rule.ExpirationDays is null && rule.ExpirationDate is null && rule.NoncurrentDays is null
            && rule.AbortIncompleteUploadDays is null && transitions.Count == 0 && noncurrentTransitions.Count == 0)
            throw S3Error.InvalidArgument("At least one action needs to be specified in a rule", "Action", "");
        return rule;
    }

    private static LifecycleFilter ParseFilter(XmlElement filter)
    {
        Only(filter, "Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan");
        // As RGW: an And element, when there is one, is the filter, and conditions beside it are not looked at
        // (s3-tests' expiration_tags2 sends both and expects And alone to select).
        var andElement = One(filter, "And");
        if (andElement is not null) Only(andElement, "Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan");
        var source = andElement ?? filter;
        var prefix = Text(source, "Prefix");
        var tags = new List<(string Key, string Value)>();
        foreach (var tag in S3Xml.Children(source, "Tag"))
        {
            Only(tag, "Key", "Value");
            var key = Text(tag, "Key") ?? throw S3Error.MalformedXml();
            var value = Text(tag, "Value") ?? "";
            if (key.Length is 0 or > 128) throw new S3Error("InvalidTag", 400, "The TagKey you have provided is invalid");
            if (value.Length > 256) throw new S3Error("InvalidTag", 400, "The TagValue you have provided is invalid");
            if (tags.Exists(t => t.Key == key)) throw S3Error.InvalidArgument("Duplicate Tag Keys are not allowed.", "Key", key);
            tags.Add((key, value));
        }
        var greater = Size(source, "ObjectSizeGreaterThan");
        var less = Size(source, "ObjectSizeLessThan");
        if (greater >= less) throw S3Error.InvalidArgument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
        var conditions = (prefix is null ? 0 : 1) + tags.Count + (greater is null ? 0 : 1) + (less is null ? 0 : 1);
        // Several conditions outside And (which RGW takes) are shown inside one, the only form S3's schema has.
        return new LifecycleFilter(prefix, tags, greater, less, andElement is not null || conditions > 1);
    }

    /// <summary>The configuration as GET answers it.</summary>
    private static S3Xml Write(List<LifecycleRule> rules)
    {
        var xml = new S3Xml("LifecycleConfiguration");
        foreach (var rule in rules)
        {
            xml.Open("Rule").Element("ID", rule.Id);
            if (rule.Filter is { } f)
            {
                xml.Open("Filter");
                if (f.And) xml.Open("And");
                if (f.Prefix is not null) xml.Element("Prefix", f.Prefix);
                foreach (var (key, value) in f.Tags) xml.Open("Tag").Element("Key", key).Element("Value", value).Close("Tag");
                if (f.SizeGreaterThan is { } greater) xml.Element("ObjectSizeGreaterThan", greater);
                if (f.SizeLessThan is { } less) xml.Element("ObjectSizeLessThan", less);
                if (f.And) xml.Close("And");
                xml.Close("Filter");
            }
            else xml.Element("Prefix", rule.Prefix ?? "");
            xml.Element("Status", rule.Enabled ? "Enabled" : "Disabled");
            foreach (var t in rule.Transitions)
            {
                xml.Open("Transition");
                if (t.Days is { } days) xml.Element("Days", days);
                if (t.Date is { } date) xml.Element("Date", S3Xml.Time(date));
                xml.Element("StorageClass", t.StorageClass).Close("Transition");
            }
            foreach (var t in rule.NoncurrentTransitions)
            {
                xml.Open("NoncurrentVersionTransition").Element("NoncurrentDays", t.Days ?? 0);
                if (t.NewerNoncurrentVersions is { } newer) xml.Element("NewerNoncurrentVersions", newer);
                xml.Element("StorageClass", t.StorageClass).Close("NoncurrentVersionTransition");
            }
            if (rule.ExpirationDays is not null || rule.ExpirationDate is not null || rule.ExpiredObjectDeleteMarker is not null)
            {
                xml.Open("Expiration");
                if (rule.ExpirationDays is { } days) xml.Element("Days", days);
                if (rule.ExpirationDate is { } date) xml.Element("Date", S3Xml.Time(date));
                if (rule.ExpiredObjectDeleteMarker is { } marker) xml.Element("ExpiredObjectDeleteMarker", marker);
                xml.Close("Expiration");
            }
            if (rule.NoncurrentDays is { } noncurrentDays)
            {
                xml.Open("NoncurrentVersionExpiration").Element("NoncurrentDays", noncurrentDays);
                if (rule.NewerNoncurrentVersions is { } newer) xml.Element("NewerNoncurrentVersions", newer);
                xml.Close("NoncurrentVersionExpiration");
            }
            if (rule.AbortIncompleteUploadDays is { } abortDays)
                xml.Open("AbortIncompleteMultipartUpload").Element("DaysAfterInitiation", abortDays).Close("AbortIncompleteMultipartUpload");
            xml.Close("Rule");
        }
        return xml;
    }

    private static string Pack(byte[] document)
    {
        using var packed = new MemoryStream();
        using (var z = new ZLibStream(packed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(document);
        return Convert.ToBase64String(packed.ToArray());
    }

    private static byte[] Unpack(string stored)
    {
        using var z = new ZLibStream(new MemoryStream(Convert.FromBase64String(stored)), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        z.CopyTo(plain);
        return plain.ToArray();
    }

    /// <summary>Refuses elements S3's schema does not have there: an ignored element would be a rule half-applied.</summary>
    private static void Only(XmlElement parent, params string[] names)
    {
        foreach (XmlNode child in parent.ChildNodes)
            if (child is XmlElement e && Array.IndexOf(names, e.LocalName) < 0) throw S3Error.MalformedXml();
    }

    /// <summary>The child element with this name, or null; MalformedXML when it is repeated.</summary>
    private static XmlElement? One(XmlElement parent, string name)
    {
        XmlElement? found = null;
        foreach (var e in S3Xml.Children(parent, name))
        {
            if (found is not null) throw S3Error.MalformedXml();
            found = e;
        }
        return found;
    }

    private static string? Text(XmlElement parent, string name) => One(parent, name)?.InnerText;

    private static int? Number(XmlElement parent, string name)
    {
        if (Text(parent, name) is not { } text) return null;
        return int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : throw S3Error.MalformedXml();
    }

    private static long? Size(XmlElement parent, string name)
    {
        if (Text(parent, name) is not { } text) return null;
        if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) throw S3Error.MalformedXml();
        return n >= 0 ? n : throw S3Error.InvalidArgument($"'{name}' must be a nonnegative integer", name, text);
    }

    private static bool? Bool(XmlElement parent, string name) => Text(parent, name)?.Trim() switch
    {
        null => (bool?)null,
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw S3Error.MalformedXml(),
    };

    /// <summary>An ISO 8601 date; S3 takes only midnight UTC (and RGW too: clients that send a time of day are told).</summary>
    private static DateTimeOffset? Date(XmlElement parent, string name)
    {
        if (Text(parent, name) is not { } text) return null;
        if (!DateTimeOffset.TryParseExact(text.Trim(), DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
            throw S3Error.MalformedXml();
        if (date.TimeOfDay != TimeSpan.Zero) throw S3Error.InvalidArgument("'Date' must be at midnight GMT", name, text);
        return date;
    }

    private static int? Newer(XmlElement parent)
    {
        var newer = Number(parent, "NewerNoncurrentVersions");
        if (newer is < 1 or > 100) throw S3Error.InvalidArgument("'NewerNoncurrentVersions' must be between 1 and 100", "NewerNoncurrentVersions", Show(newer));
        return newer;
    }

    private static string Show(int? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string StorageClass(XmlElement transition)
    {
        var name = Text(transition, "StorageClass")?.Trim() ?? throw S3Error.MalformedXml();
        if (Array.IndexOf(StorageClasses, name) < 0) throw S3Error.InvalidArgument("The storage class you specified is not valid", "StorageClass", name);
        return name;
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;

namespace StorageCloud.Proxy.S3;

/// <summary>What a bucket policy says about a request.</summary>
public enum PolicyDecision
{
    /// <summary>No statement applies: other rules (ownership, ACLs) decide.</summary>
    None,

    /// <summary>An Allow statement applies and no Deny does.</summary>
    Allow,

    /// <summary>A Deny statement applies, which wins over everything.</summary>
    Deny,
}

/// <summary>The caller as a policy's Principal names it.</summary>
/// <param name="Anonymous">True for an unsigned request: only "*" names it.</param>
/// <param name="Account">The caller's own Swift account (AUTH_...), never the bucket owner's it may be answered from.</param>
/// <param name="Groups">The caller's Swift groups, which hold its unambiguous user names ("account:user").</param>
/// <param name="ResellerPrefix">The accounts' prefix, which a policy may leave out of an account id.</param>
public sealed record PolicyCaller(bool Anonymous, string Account, IReadOnlySet<string> Groups, string ResellerPrefix)
{
    private static readonly IReadOnlySet<string> NoGroups = new HashSet<string>();

    /// <summary>The caller of a request authenticated as <paramref name="principal"/>.</summary>
    public static PolicyCaller Of(S3Principal principal, string resellerPrefix) =>
        new(principal.Anonymous, principal.Account, principal.Identity?.Groups ?? NoGroups, resellerPrefix);
}

/// <summary>
/// An S3 bucket policy: the JSON document checked as AWS checks it (MalformedPolicy otherwise) and evaluated as IAM
/// evaluates it: an applicable Deny wins, else an applicable Allow allows, else the policy says nothing.
/// </summary>
public sealed class BucketPolicy
{
    /// <summary>AWS's limit on a bucket policy's size.</summary>
    public const int MaxSize = 20 * 1024;

    private const string InvalidPrincipal = "Invalid principal in policy";
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 16 };

    private readonly List<Statement> _statements;

    private BucketPolicy(List<Statement> statements, byte[] document)
    {
        _statements = statements;
        Document = document;
        IsPublic = statements.Exists(Public);
        UsesExistingObjectTags = statements.Exists(s => Array.Exists(s.Conditions, c => c.Key.StartsWith("s3:ExistingObjectTag/", StringComparison.OrdinalIgnoreCase)));
        UsesRequestObjectTags = statements.Exists(s => Array.Exists(s.Conditions, c => c.Key.StartsWith("s3:RequestObjectTag", StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>What a stored policy that cannot be read stands for: nothing is granted, everything is refused.</summary>
    public static BucketPolicy DenyAll { get; } =
        new([new Statement(false, Principals.All, false, ["*"], false, ["arn:aws:s3:::*"], false, [])], "{}"u8.ToArray());

    /// <summary>The document without insignificant whitespace (UTF-8 JSON), as it is stored and given back.</summary>
    public byte[] Document { get; }

    /// <summary>True when some Allow statement names everyone and no condition pins the callers down (GetBucketPolicyStatus).</summary>
    public bool IsPublic { get; }

    /// <summary>True when a condition reads s3:ExistingObjectTag/..., which needs the object's tags.</summary>
    public bool UsesExistingObjectTags { get; }

    /// <summary>True when a condition reads s3:RequestObjectTag/... or s3:RequestObjectTagKeys.</summary>
    public bool UsesRequestObjectTags { get; }

    /// <summary>The ARN a request's bucket or object has in policies.</summary>
    public static string Arn(string bucket, string? key) => key is null ? "arn:aws:s3:::" + bucket : $"arn:aws:s3:::{bucket}/{key}";

    /// <summary>Parses and checks a policy for <paramref name="bucket"/>; MalformedPolicy when it is not a valid one.</summary>
    public static BucketPolicy Parse(byte[] json, string bucket)
    {
        if (json.AsSpan().StartsWith(Bom)) json = json[3..];
        try
        {
            using var doc = JsonDocument.Parse(json, Options);
            var statements = ParseDocument(doc.RootElement, bucket);
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                doc.RootElement.WriteTo(writer);
            return new BucketPolicy(statements, buffer.ToArray());
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            // Invalid JSON, or a string the writer cannot re-encode (a lone surrogate escape).
            throw Malformed("This policy contains invalid Json");
        }
    }

    /// <summary>What the policy says about <paramref name="action"/> (null: an operation with no IAM name) on <paramref name="resource"/>.</summary>
    /// <param name="keys">The request's condition keys; null for a key the request does not have.</param>
    public PolicyDecision Evaluate(PolicyCaller caller, string? action, string resource, Func<string, string[]?> keys)
    {
        var allowed = false;
        foreach (var s in _statements)
        {
            if (s.Allow && allowed) continue;
            if (Names(s.Principal, caller) == s.NotPrincipal || !Covers(s, action)) continue;
            if (s.Resources.Any(p => PolicyCondition.Glob(p, resource, false)) == s.NotResource) continue;
            if (!s.Conditions.All(c => c.Holds(keys))) continue;
            if (!s.Allow) return PolicyDecision.Deny;
            allowed = true;
        }
        return allowed ? PolicyDecision.Allow : PolicyDecision.None;
    }

    internal static S3Error Malformed(string message) => new("MalformedPolicy", 400, message);

    private static List<Statement> ParseDocument(JsonElement root, string bucket)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Malformed("This policy contains invalid Json");
        var statement = default(JsonElement);
        foreach (var p in Properties(root))
        {
            switch (p.Name)
            {
                case "Version":
                    if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not ("2012-10-17" or "2008-10-17"))
                        throw Malformed("The policy must contain a valid version string");
                    break;
                case "Id":
                    if (p.Value.ValueKind != JsonValueKind.String) throw Malformed("The policy Id must be a string");
                    break;
                case "Statement":
                    statement = p.Value;
                    break;
                default:
                    throw Malformed($"Policy has an invalid field: {p.Name}");
            }
        }
        var list = new List<Statement>();
        var sids = new HashSet<string>(StringComparer.Ordinal);
        if (statement.ValueKind == JsonValueKind.Object) list.Add(ParseStatement(statement, bucket, sids));
        else if (statement.ValueKind == JsonValueKind.Array)
            foreach (var s in statement.EnumerateArray()) list.Add(ParseStatement(s, bucket, sids));
        if (list.Count == 0) throw Malformed("Missing required field Statement");
        return list;
    }

    /// <summary>An object's members; a name given twice is refused, since parsers disagree on which one counts.</summary>
    private static IEnumerable<JsonProperty> Properties(JsonElement e)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (!seen.Add(p.Name)) throw Malformed($"Policy has a duplicate field: {p.Name}");
            yield return p;
        }
    }

    private static Statement ParseStatement(JsonElement e, string bucket, HashSet<string> sids)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Malformed("A statement must be an object");
        bool? allow = null;
        Principals? principal = null;
        string[]? actions = null, resources = null;
        bool notPrincipal = false, notAction = false, notResource = false;
        var conditions = new List<PolicyCondition>();
        foreach (var p in Properties(e))
        {
            switch (p.Name)
            {
                case "Sid":
                    if (p.Value.ValueKind != JsonValueKind.String) throw Malformed("Statement Sid must be a string");
                    if (p.Value.GetString() is { Length: > 0 } sid && !sids.Add(sid)) throw Malformed("Statement IDs (SID) in a single policy must be unique");
                    break;
                case "Effect":
                    allow = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() switch { "Allow" => true, "Deny" => false, _ => (bool?)null } : null;
                    if (allow is null) throw Malformed("Invalid effect in policy");
                    break;
                case "Principal" or "NotPrincipal":
                    if (principal is not null) throw Malformed("A statement has either Principal or NotPrincipal");
                    principal = ParsePrincipal(p.Value);
                    notPrincipal = p.Name == "NotPrincipal";
                    break;
                case "Action" or "NotAction":
                    if (actions is not null) throw Malformed("A statement has either Action or NotAction");
                    actions = ParseActions(p.Value);
                    notAction = p.Name == "NotAction";
                    break;
                case "Resource" or "NotResource":
                    if (resources is not null) throw Malformed("A statement has either Resource or NotResource");
                    notResource = p.Name == "NotResource";
                    resources = ParseResources(p.Value, bucket, notResource);
                    break;
                case "Condition":
                    conditions.AddRange(PolicyCondition.Parse(p.Value));
                    break;
                default:
                    throw Malformed($"Statement has an invalid field: {p.Name}");
            }
        }
        if (allow is null) throw Malformed("Missing required field Effect");
        if (principal is null) throw Malformed("Missing required field Principal");
        if (actions is null) throw Malformed("Missing required field Action");
        if (resources is null) throw Malformed("Missing required field Resource");
        return new Statement(allow.Value, principal, notPrincipal, actions, notAction, resources, notResource, conditions.ToArray());
    }

    private static Principals ParsePrincipal(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.String) return e.GetString() == "*" ? Principals.All : throw Malformed(InvalidPrincipal);
        if (e.ValueKind != JsonValueKind.Object) throw Malformed(InvalidPrincipal);
        var everyone = false;
        var named = false;
        var aws = new List<string>();
        var canonical = new List<string>();
        foreach (var p in Properties(e))
        {
            named = true;
            foreach (var v in Strings(p.Value, InvalidPrincipal))
            {
                switch (p.Name)
                {
                    case "AWS" when v == "*":
                        everyone = true;
                        break;
                    case "AWS":
                        aws.Add(ValidAws(v) ? v : throw Malformed(InvalidPrincipal));
                        break;
                    case "CanonicalUser":
                        canonical.Add(v.Length > 0 && v[0] != '.' && !PolicyCondition.Wild(v) ? v : throw Malformed(InvalidPrincipal));
                        break;
                    case "Service" or "Federated":
                        // Valid, but no caller of this front end is a service or a federated user: never matched.
                        break;
                    default:
                        throw Malformed(InvalidPrincipal);
                }
            }
        }
        return named ? new Principals(everyone, aws.ToArray(), canonical.ToArray()) : throw Malformed(InvalidPrincipal);
    }

    /// <summary>
    /// An AWS principal: an account ("AUTH_x" or "x"), an S3 user id ("account:user"), arn:aws:iam::ACCOUNT:root or
    /// arn:aws:iam::ACCOUNT:user/NAME. Wildcards are refused: "*" alone is everyone, and a partial one could match
    /// Swift's own wildcard groups ("*:user").
    /// </summary>
    private static bool ValidAws(string v)
    {
        if (v.Length == 0 || v[0] == '.' || PolicyCondition.Wild(v)) return false;
        if (!v.StartsWith("arn:", StringComparison.Ordinal)) return v.Split(':') is [var a, var u] ? a.Length > 0 && u.Length > 0 : !v.Contains(':');
        if (v.Split(':') is not ["arn", "aws", "iam", "", { Length: > 0 }, var resource]) return false;
        return resource == "root" || (resource.StartsWith("user/", StringComparison.Ordinal) && !resource.EndsWith('/'));
    }

    private static string[] ParseActions(JsonElement e)
    {
        var values = Strings(e, "Policy has invalid action");
        foreach (var v in values)
            if (v != "*" && !(v.Length > 3 && v.StartsWith("s3:", StringComparison.OrdinalIgnoreCase) && v.Skip(3).All(c => char.IsAsciiLetter(c) || c is '*' or '?')))
                throw Malformed("Policy has invalid action");
        return values;
    }

    /// <summary>S3 ARNs; as AWS does, a Resource that could not name this bucket or its objects is refused.</summary>
    private static string[] ParseResources(JsonElement e, string bucket, bool not)
    {
        var values = Strings(e, "Policy has invalid resource");
        foreach (var v in values)
        {
            var parts = v.Split(':', 6);
            if (parts.Length != 6 || parts[0] != "arn" || !PolicyCondition.Glob(parts[1], "aws", false) || !PolicyCondition.Glob(parts[2], "s3", false))
                throw Malformed("Policy has invalid resource");
            var slash = parts[5].IndexOf('/');
            if (!not && !PolicyCondition.Glob(slash < 0 ? parts[5] : parts[5][..slash], bucket, false)) throw Malformed("Policy has invalid resource");
        }
        return values;
    }

    private static string[] Strings(JsonElement e, string error)
    {
        if (e.ValueKind == JsonValueKind.String) return [e.GetString()!];
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0) throw Malformed(error);
        var list = new List<string>();
        foreach (var item in e.EnumerateArray()) list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Malformed(error));
        return list.ToArray();
    }

    private static bool Names(Principals p, PolicyCaller caller)
    {
        if (p.Everyone) return true;
        if (caller.Anonymous) return false;
        foreach (var v in p.Aws)
        {
            if (!v.StartsWith("arn:", StringComparison.Ordinal))
            {
                if (v.Contains(':') ? caller.Groups.Contains(v) : IsAccount(v, caller)) return true;
                continue;
            }
            var parts = v.Split(':');
            var resource = parts[5];
            if (resource == "root" ? IsAccount(parts[4], caller) : caller.Groups.Contains(parts[4] + ":" + resource[(resource.LastIndexOf('/') + 1)..])) return true;
        }
        return p.Canonical.Any(caller.Groups.Contains);
    }

    private static bool IsAccount(string id, PolicyCaller caller) => caller.Account == id || caller.Account == caller.ResellerPrefix + id;

    private static bool Covers(Statement s, string? action)
    {
        // An operation with no IAM name is caught only by a Deny of every action (or of every action but some).
        if (action is null) return !s.Allow && (s.NotAction || s.Actions.Any(a => a == "*" || a.Equals("s3:*", StringComparison.OrdinalIgnoreCase)));
        return s.Actions.Any(p => PolicyCondition.Glob(p, action, true)) != s.NotAction;
    }

    private static bool Public(Statement s) => s.Allow && (s.NotPrincipal || s.Principal.Everyone) && !s.Conditions.Any(c => c.Fixes);

    private sealed record Principals(bool Everyone, string[] Aws, string[] Canonical)
    {
        public static readonly Principals All = new(true, [], []);
    }

    private sealed record Statement(bool Allow, Principals Principal, bool NotPrincipal, string[] Actions, bool NotAction,
        string[] Resources, bool NotResource, PolicyCondition[] Conditions);
}

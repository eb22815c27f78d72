using System.Globalization;
using System.Net;
using System.Text.Json;

namespace StorageCloud.Proxy.S3;

/// <summary>A bucket policy's condition operators.</summary>
internal enum PolicyOp
{
    StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike,
    NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals,
    DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals,
    Bool, IpAddress, NotIpAddress, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Null,
}

/// <summary>
/// One test of a policy statement's Condition block ("StringLikeIfExists": {"aws:Referer": [...]}), with IAM's
/// semantics: the ...IfExists forms, ForAnyValue:/ForAllValues: over multi-valued keys, negated operators.
/// </summary>
internal sealed record PolicyCondition(PolicyOp Op, bool IfExists, int Set, string Key, string[] Values)
{
    public const int NoSet = 0, AnyValue = 1, AllValues = 2;

    private static readonly Dictionary<string, PolicyOp> Operators = Enum.GetValues<PolicyOp>().ToDictionary(o => o.ToString(), StringComparer.OrdinalIgnoreCase);

    // A statement whose condition pins one of these to fixed values does not open the bucket to everyone (AWS's rule).
    private static readonly HashSet<string> FixingKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce", "aws:PrincipalOrgID",
        "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid", "aws:username",
    };

    /// <summary>The tests of a Condition block; MalformedPolicy for an unknown operator, a key of no service or a value the operator cannot take.</summary>
    public static List<PolicyCondition> Parse(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw BucketPolicy.Malformed("Invalid Condition in policy");
        var list = new List<PolicyCondition>();
        var ops = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in e.EnumerateObject())
        {
            if (!ops.Add(op.Name)) throw BucketPolicy.Malformed($"Policy has a duplicate field: {op.Name}");
            var name = op.Name;
            var set = NoSet;
            if (name.StartsWith("ForAnyValue:", StringComparison.OrdinalIgnoreCase)) (set, name) = (AnyValue, name["ForAnyValue:".Length..]);
            else if (name.StartsWith("ForAllValues:", StringComparison.OrdinalIgnoreCase)) (set, name) = (AllValues, name["ForAllValues:".Length..]);
            var ifExists = name.EndsWith("IfExists", StringComparison.OrdinalIgnoreCase);
            if (ifExists) name = name[..^"IfExists".Length];
            if (!Operators.TryGetValue(name, out var kind) || (kind == PolicyOp.Null && (ifExists || set != NoSet)) || op.Value.ValueKind != JsonValueKind.Object)
                throw BucketPolicy.Malformed($"Invalid Condition type : {op.Name}");
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var key in op.Value.EnumerateObject())
            {
                if (!keys.Add(key.Name)) throw BucketPolicy.Malformed($"Policy has a duplicate field: {key.Name}");
                if (!key.Name.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) && !key.Name.StartsWith("s3:", StringComparison.OrdinalIgnoreCase))
                    throw BucketPolicy.Malformed($"Policy has an invalid condition key: {key.Name}");
                var values = ValuesOf(key.Value);
                foreach (var v in values)
                    if (!Valid(kind, v)) throw BucketPolicy.Malformed($"Invalid value for {op.Name} condition {key.Name}: {v}");
                list.Add(new PolicyCondition(kind, ifExists, set, key.Name, values));
            }
        }
        return list;
    }

    /// <summary>Whether the request passes the test; <paramref name="keys"/> gives a key's values, null when the request has none.</summary>
    public bool Holds(Func<string, string[]?> keys)
    {
        var actual = keys(Key);
        var absent = actual is null || actual.Length == 0;
        if (Op == PolicyOp.Null) return Values.Any(v => v.Equals("true", StringComparison.OrdinalIgnoreCase) == absent);
        var negated = Op is PolicyOp.StringNotEquals or PolicyOp.StringNotEqualsIgnoreCase or PolicyOp.StringNotLike or PolicyOp.NumericNotEquals
            or PolicyOp.DateNotEquals or PolicyOp.NotIpAddress or PolicyOp.ArnNotEquals or PolicyOp.ArnNotLike;
        // IAM: a missing key fails a test, except ...IfExists, a negated test (nothing to equal) and ForAllValues (vacuous).
        if (absent) return IfExists || Set == AllValues || (negated && Set == NoSet);
        bool One(string a) => Values.Any(v => Matches(Op, a, v)) != negated;
        return Set == AllValues || (negated && Set == NoSet) ? actual!.All(One) : actual!.Any(One);
    }

    /// <summary>True when the test pins callers to fixed values (a source range, an account...), so its statement is not public.</summary>
    public bool Fixes
    {
        get
        {
            if (IfExists || Set != NoSet) return false;
            // AWS counts a source range wider than /8 (IPv4) or /32 (IPv6) as open to everyone.
            if (Op == PolicyOp.IpAddress && Key.Equals("aws:SourceIp", StringComparison.OrdinalIgnoreCase))
                return Values.All(v => TryCidr(v, out var network, out var prefix) && prefix >= (network.Length == 4 ? 8 : 32));
            return FixingKeys.Contains(Key) && Op is PolicyOp.StringEquals or PolicyOp.StringEqualsIgnoreCase or PolicyOp.ArnEquals or PolicyOp.StringLike or PolicyOp.ArnLike
                && !Values.Any(Wild);
        }
    }

    /// <summary>True when the text has an IAM wildcard.</summary>
    public static bool Wild(string s) => s.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>IAM's wildcards: * any run of characters, ? any one. Backtracks only to the last star, so no pattern is costly.</summary>
    public static bool Glob(string pattern, string text, bool ignoreCase)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]
                     || (ignoreCase && char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t]))))
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    private static string[] ValuesOf(JsonElement e)
    {
        List<JsonElement> items = e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray()] : [e];
        if (items.Count == 0) throw BucketPolicy.Malformed("Invalid Condition value in policy");
        return items.Select(item => item.ValueKind switch
        {
            JsonValueKind.String => item.GetString()!,
            JsonValueKind.Number => item.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => throw BucketPolicy.Malformed("Invalid Condition value in policy"),
        }).ToArray();
    }

    private static bool Valid(PolicyOp op, string v) =>
        op is PolicyOp.Null or PolicyOp.Bool ? v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase)
        : IsNumeric(op) ? Number(v) is not null
        : IsDate(op) ? Date(v) is not null
        : op is not (PolicyOp.IpAddress or PolicyOp.NotIpAddress) || TryCidr(v, out _, out _);

    private static bool Matches(PolicyOp op, string actual, string expected) => op switch
    {
        PolicyOp.StringEquals or PolicyOp.StringNotEquals => string.Equals(actual, expected, StringComparison.Ordinal),
        PolicyOp.StringEqualsIgnoreCase or PolicyOp.StringNotEqualsIgnoreCase or PolicyOp.Bool => string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase),
        PolicyOp.StringLike or PolicyOp.StringNotLike or PolicyOp.ArnEquals or PolicyOp.ArnLike or PolicyOp.ArnNotEquals or PolicyOp.ArnNotLike => Glob(expected, actual, false),
        PolicyOp.IpAddress or PolicyOp.NotIpAddress => InCidr(actual, expected),
        _ when IsNumeric(op) => Number(actual) is { } a && Number(expected) is { } b && Order(op, a.CompareTo(b)),
        _ when IsDate(op) => Date(actual) is { } a && Date(expected) is { } b && Order(op, a.CompareTo(b)),
        _ => false,
    };

    private static bool IsNumeric(PolicyOp op) => op is PolicyOp.NumericEquals or PolicyOp.NumericNotEquals or PolicyOp.NumericLessThan
        or PolicyOp.NumericLessThanEquals or PolicyOp.NumericGreaterThan or PolicyOp.NumericGreaterThanEquals;

    private static bool IsDate(PolicyOp op) => op is PolicyOp.DateEquals or PolicyOp.DateNotEquals or PolicyOp.DateLessThan
        or PolicyOp.DateLessThanEquals or PolicyOp.DateGreaterThan or PolicyOp.DateGreaterThanEquals;

    private static bool Order(PolicyOp op, int comparison) => op switch
    {
        PolicyOp.NumericLessThan or PolicyOp.DateLessThan => comparison < 0,
        PolicyOp.NumericLessThanEquals or PolicyOp.DateLessThanEquals => comparison <= 0,
        PolicyOp.NumericGreaterThan or PolicyOp.DateGreaterThan => comparison > 0,
        PolicyOp.NumericGreaterThanEquals or PolicyOp.DateGreaterThanEquals => comparison >= 0,
        _ => comparison == 0,
    };

    private static decimal? Number(string s) => decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static DateTimeOffset? Date(string s)
    {
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var epoch))
            return epoch is >= -62135596800L and <= 253402300799L ? DateTimeOffset.FromUnixTimeSeconds(epoch) : null;
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool TryCidr(string text, out byte[] network, out int prefix)
    {
        network = [];
        prefix = 0;
        var slash = text.IndexOf('/');
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address)) return false;
        network = Normal(address).GetAddressBytes();
        prefix = network.Length * 8;
        return slash < 0 || (int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) && prefix <= network.Length * 8);
    }

    private static bool InCidr(string actual, string cidr)
    {
        if (!IPAddress.TryParse(actual, out var address) || !TryCidr(cidr, out var network, out var prefix)) return false;
        var bytes = Normal(address).GetAddressBytes();
        if (bytes.Length != network.Length) return false;
        for (var i = 0; i < prefix / 8; i++)
            if (bytes[i] != network[i]) return false;
        var rest = prefix % 8;
        return rest == 0 || ((bytes[prefix / 8] ^ network[prefix / 8]) & (0xFF << (8 - rest)) & 0xFF) == 0;
    }
}

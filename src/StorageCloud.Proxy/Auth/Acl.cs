using System.Text.Json;

namespace StorageCloud.Proxy.Auth;

/// <summary>Swift's ACL syntax: container ACLs (referrers and groups) and account ACLs (JSON by access level).</summary>
public static class Acl
{
    /// <summary>Splits a stored (cleaned) container ACL into referrer rules (without ".r:") and groups (Swift's parse_acl).</summary>
    public static (List<string> Referrers, List<string> Groups) ParseContainerAcl(string? acl)
    {
        var referrers = new List<string>();
        var groups = new List<string>();
        if (string.IsNullOrEmpty(acl)) return (referrers, groups);
        foreach (var value in acl.Split(','))
        {
            if (value.StartsWith(".r:", StringComparison.Ordinal)) referrers.Add(value[3..]);
            else groups.Add(Uri.UnescapeDataString(value));
        }
        return (referrers, groups);
    }

    /// <summary>
    /// Normalizes a container ACL header as Swift's clean_acl does (trims items, spells every referrer
    /// designation ".r:", drops empty items); returns Swift's error text when an item is not valid.
    /// </summary>
    public static string? CleanContainerAcl(string header, string value, out string cleaned)
    {
        var items = new List<string>();
        cleaned = "";
        foreach (var raw in value.Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0) continue;
            var colon = item.IndexOf(':');
            if (!item.StartsWith('.') || colon < 0)
            {
                if (item.StartsWith('.') && item != ".rlistings") return $"Unknown designator '{item}' in ACL: '{value}'";
                items.Add(item);
                continue;
            }
            var first = item[..colon].Trim();
            var second = item[(colon + 1)..].Trim();
            if (first is not (".r" or ".ref" or ".referer" or ".referrer")) return $"Unknown designator '{first}' in ACL: '{value}'";
            if (second.StartsWith('-'))
            {
                second = second[1..].Trim();
                if (second.Length == 0) return $"No host/domain value after referrer designation in ACL: '{value}'";
                if (second == "*") second = "-*";
                else second = "-" + second;
            }
            if (second.Length == 0) return $"No host/domain value after referrer designation in ACL: '{value}'";
            if (second.StartsWith("*.", StringComparison.Ordinal)) second = second[1..];
            items.Add(".r:" + second);
        }
        cleaned = string.Join(",", items);
        return null;
    }

    /// <summary>True when the referrer rules let the Referer in (Swift's referrer_allowed; the last matching rule wins).</summary>
    public static bool ReferrerAllowed(string? referer, IReadOnlyList<string> rules)
    {
        if (rules.Count == 0) return false;
        var host = "unknown";
        if (!string.IsNullOrEmpty(referer) && Uri.TryCreate(referer, UriKind.Absolute, out var uri) && uri.Host.Length > 0) host = uri.Host;
        var allow = false;
        foreach (var rule in rules)
        {
            if (rule.StartsWith('-'))
            {
                var m = rule[1..];
                if (m == host || m == "*" || (m.StartsWith('.') && host.EndsWith(m, StringComparison.Ordinal))) allow = false;
            }
            else if (rule == "*" || rule == host || (rule.StartsWith('.') && host.EndsWith(rule, StringComparison.Ordinal))) allow = true;
        }
        return allow;
    }

    /// <summary>The access levels of account ACLs, strongest first.</summary>
    public static readonly string[] AccountLevels = ["admin", "read-write", "read-only"];

    /// <summary>
    /// Parses an account ACL ({"admin":[...],"read-write":[...],"read-only":[...]}); returns Swift's error text for
    /// anything else, or null when it is valid.
    /// </summary>
    public static string? ParseAccountAcl(string json, out Dictionary<string, List<string>> levels)
    {
        levels = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var level in AccountLevels) levels[level] = [];
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return "Syntax error";
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return "Syntax error";
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!levels.TryGetValue(property.Name, out var list)) return $"Key '{property.Name}' not recognized";
                if (property.Value.ValueKind != JsonValueKind.Array) return $"Value for '{property.Name}' must be a list";
                foreach (var item in property.Value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String) return $"Elements of '{property.Name}' list must be strings";
                    list.Add(item.GetString()!);
                }
            }
        }
        return null;
    }
}

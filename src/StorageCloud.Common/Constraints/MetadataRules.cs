using System.Text;

namespace StorageCloud.Common.Constraints;

/// <summary>Swift's check_metadata: the limits on user metadata (X-&lt;Kind&gt;-Meta-*) of accounts, containers and objects.</summary>
public static class MetadataRules
{
    /// <summary>Swift's 400 message for the first broken rule, or null when the metadata is acceptable.</summary>
    /// <param name="headers">The request headers.</param>
    /// <param name="kind">"Account", "Container" or "Object".</param>
    /// <param name="limits">The cluster's constraints.</param>
    public static string? Check<TValues>(IEnumerable<KeyValuePair<string, TValues>> headers, string kind, SwiftConstraints limits)
    {
        var prefix = $"X-{kind}-Meta-";
        var count = 0;
        var size = 0;
        foreach (var (name, values) in headers)
        {
            if (!name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
            var key = name[prefix.Length..];
            var value = values?.ToString() ?? "";
            if (key.Length == 0) return "Metadata name cannot be empty";
            var keyBytes = Encoding.UTF8.GetByteCount(key);
            var valueBytes = Encoding.UTF8.GetByteCount(value);
            count++;
            size += keyBytes + valueBytes;
            // Swift prints the prefix in lower case and the name as its headers present it.
            if (keyBytes > limits.MaxMetaNameLength) return $"Metadata name too long: {prefix.ToLowerInvariant()}{TitleCase(key)}";
            if (valueBytes > limits.MaxMetaValueLength) return $"Metadata value longer than {limits.MaxMetaValueLength}: {prefix.ToLowerInvariant()}{TitleCase(key)}";
            if (count > limits.MaxMetaCount) return $"Too many metadata items; max {limits.MaxMetaCount}";
            if (size > limits.MaxMetaOverallSize) return $"Total metadata too large; max {limits.MaxMetaOverallSize}";
        }
        return null;
    }

    /// <summary>
    /// Swift's validate_metadata on an account or container server: the metadata held and the update together must
    /// stay within the count and overall size (an update acceptable alone may take the whole past them). Null when
    /// they do, else Swift's 400 message.
    /// </summary>
    public static string? CheckMerged(IReadOnlyDictionary<string, string[]> held, IEnumerable<KeyValuePair<string, string>> update, string kind, SwiftConstraints limits)
    {
        var prefix = $"X-{kind}-Meta-";
        var merged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in held)
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) merged[name] = value[0];
        foreach (var (name, value) in update)
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) merged[name] = value;
        var count = 0;
        var size = 0;
        foreach (var (name, value) in merged)
        {
            // An empty value is a removal.
            if (value.Length == 0) continue;
            count++;
            size += Encoding.UTF8.GetByteCount(name.AsSpan(prefix.Length)) + Encoding.UTF8.GetByteCount(value);
        }
        if (count > limits.MaxMetaCount) return $"Too many metadata items; max {limits.MaxMetaCount}";
        if (size > limits.MaxMetaOverallSize) return $"Total metadata too large; max {limits.MaxMetaOverallSize}";
        return null;
    }

    /// <summary>Title-Case-Per-Word, as Swift presents header names.</summary>
    public static string TitleCase(string name)
    {
        var chars = name.ToLowerInvariant().ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (i == 0 || chars[i - 1] == '-') chars[i] = char.ToUpperInvariant(chars[i]);
        return new string(chars);
    }
}

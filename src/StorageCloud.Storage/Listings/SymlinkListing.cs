using System.Globalization;
using System.Text;

namespace StorageCloud.Storage.Listings;

/// <summary>
/// Where a symlink's listing row points. The proxy's symlink middleware stores it as parameters of the row's hash
/// (through the container-update override, as Swift does), so a listing can say where each link points without
/// reading the links; listings show the parameters as keys of their own and the hash without them.
/// </summary>
public sealed class SymlinkListing
{
    /// <summary>The hash to show: the stored one without the link's parameters (any others stay, for other features).</summary>
    public required string Hash { get; init; }

    /// <summary>The target as stored: quoted "container/object".</summary>
    public string? Target { get; init; }

    /// <summary>The target's account, quoted, when the link names one.</summary>
    public string? Account { get; init; }

    /// <summary>A static link's target ETag.</summary>
    public string? Etag { get; init; }

    /// <summary>A static link's target size.</summary>
    public long? Bytes { get; init; }

    /// <summary>The link parameters of a row's stored hash, or null when the row is no symlink.</summary>
    public static SymlinkListing? Parse(string storedHash)
    {
        if (storedHash.IndexOf(';') < 0 || !storedHash.Contains("symlink_target", StringComparison.OrdinalIgnoreCase)) return null;
        var (plain, parameters) = HashParameters.Split(storedHash);
        var hash = new StringBuilder(plain);
        string? target = null, account = null, etag = null;
        long? bytes = null;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "symlink_target":
                    target = value;
                    break;
                case "symlink_target_account":
                    account = value;
                    break;
                case "symlink_target_etag":
                    etag = value;
                    break;
                case "symlink_target_bytes":
                    bytes = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (long?)null;
                    break;
                default:
                    hash.Append("; ").Append(key).Append('=').Append(value);
                    break;
            }
        }
        return new SymlinkListing { Hash = hash.ToString(), Target = target, Account = account, Etag = etag, Bytes = bytes };
    }

    /// <summary>
    /// Appends the link's JSON keys (symlink_etag, symlink_bytes, symlink_path) to an object being written;
    /// <paramref name="quotedListingAccount"/> is the account a link without an account of its own points into.
    /// </summary>
    public void AppendJson(StringBuilder sb, string quotedListingAccount)
    {
        if (Etag is not null)
        {
            sb.Append(", \"symlink_etag\": ");
            ListingFormat.JsonString(sb, Etag);
        }
        if (Bytes is { } bytes) sb.Append(", \"symlink_bytes\": ").Append(bytes.ToString(CultureInfo.InvariantCulture));
        if (Target is not null)
        {
            sb.Append(", \"symlink_path\": ");
            ListingFormat.JsonString(sb, $"/v1/{Account ?? quotedListingAccount}/{Target}");
        }
    }
}

/// <summary>
/// The parameters features hang on a listing row's stored hash ("md5; key=value; ..."), as Swift's container-update
/// overrides put them there: the plain hash, and each parameter with its key lower-cased and its value unquoted.
/// </summary>
public static class HashParameters
{
    /// <summary>Splits a stored hash into the hash itself and its parameters, in order.</summary>
    public static (string Hash, List<(string Key, string Value)> Parameters) Split(string stored)
    {
        var parts = stored.Split(';');
        var parameters = new List<(string, string)>(parts.Length - 1);
        for (var i = 1; i < parts.Length; i++)
        {
            var eq = parts[i].IndexOf('=');
            if (eq < 0) continue;
            var value = parts[i][(eq + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
            parameters.Add((parts[i][..eq].Trim().ToLowerInvariant(), value));
        }
        return (parts[0].Trim(), parameters);
    }
}

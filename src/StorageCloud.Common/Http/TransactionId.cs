using System.Globalization;
using System.Security.Cryptography;

namespace StorageCloud.Common.Http;

/// <summary>Swift's transaction ids: "tx" + 21 random hex digits + "-" + the Unix time as 10 hex digits + suffix.</summary>
public static class TransactionId
{
    /// <summary>Makes a new id; <paramref name="suffix"/> (already URL-safe) is appended as Swift's trans_id_suffix is.</summary>
    public static string New(string? suffix = null)
    {
        Span<byte> random = stackalloc byte[11];
        RandomNumberGenerator.Fill(random);
        var hex = Convert.ToHexStringLower(random)[..21];
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return string.Concat("tx", hex, "-", seconds.ToString("x10", CultureInfo.InvariantCulture), suffix ?? "");
    }
}

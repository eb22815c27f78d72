using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Identity.Auth;

/// <summary>
/// Password hashes as PBKDF2-SHA512 with a random salt, kept as "$pbkdf2-sha512$rounds$salt$hash" so the round count
/// can grow without invalidating old hashes. Verification compares in constant time.
/// </summary>
public static class PasswordHasher
{
    private const string Prefix = "$pbkdf2-sha512$";
    private const int SaltSize = 16;
    private const int HashSize = 64;

    /// <summary>Longest password accepted (Keystone's limit is 4096 bytes, which also bounds the hashing work).</summary>
    public const int MaxPasswordLength = 4096;

    /// <summary>Hashes a password.</summary>
    public static string Hash(string password, int rounds)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, rounds, HashAlgorithmName.SHA512, HashSize);
        return $"{Prefix}{rounds.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>True when the password matches the stored hash.</summary>
    public static bool Verify(string password, string? stored)
    {
        if (stored is null || !stored.StartsWith(Prefix, StringComparison.Ordinal) || password.Length > MaxPasswordLength) return false;
        var parts = stored[Prefix.Length..].Split('$');
        if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) || rounds < 1) return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[1]);
            expected = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, rounds, HashAlgorithmName.SHA512, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}

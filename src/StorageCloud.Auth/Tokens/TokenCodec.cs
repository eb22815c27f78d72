using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Auth.Tokens;

/// <summary>What a token is scoped to.</summary>
public enum ScopeKind : byte
{
    Unscoped = 0,
    Project = 1,
    Domain = 2,
    System = 3,
}

/// <summary>Authentication methods a token records (its "methods" list).</summary>
[Flags]
public enum AuthMethods : byte
{
    None = 0,
    Password = 1,
    Token = 2,
    ApplicationCredential = 4,
}

/// <summary>Everything a token carries; the rest (names, roles, catalog) is looked up when it is validated.</summary>
public sealed record TokenPayload(
    string UserId,
    AuthMethods Methods,
    ScopeKind Scope,
    string? ScopeId,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<string> AuditIds,
    string? ApplicationCredentialId = null,
    string? TrustId = null);

/// <summary>
/// Non-persistent tokens in the Fernet style: the payload, encrypted and authenticated with AES-256-GCM under the
/// repository's primary key, base64url-encoded. Nothing is stored per token; any node holding the keys validates one.
/// </summary>
public sealed class TokenCodec(KeyRepository keys)
{
    private const byte Version = 0x91;

    // Trust-scoped tokens carry the trust id and a version of their own, so that a node still running a build that
    // knows no trusts refuses them instead of reading them as the trustee's (or trustor's) plain project token.
    private const byte TrustVersion = 0x92;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Longest token accepted; anything longer is not ours.</summary>
    public const int MaxTokenLength = 1024;

    /// <summary>Encrypts a payload under the primary key.</summary>
    public string Encode(TokenPayload payload)
    {
        var plain = Serialize(payload);
        var sealedBytes = new byte[1 + NonceSize + plain.Length + TagSize];
        sealedBytes[0] = payload.TrustId is null ? Version : TrustVersion;
        var nonce = sealedBytes.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var gcm = new AesGcm(keys.Keys[0], TagSize);
        gcm.Encrypt(nonce, plain, sealedBytes.AsSpan(1 + NonceSize, plain.Length), sealedBytes.AsSpan(1 + NonceSize + plain.Length), sealedBytes.AsSpan(0, 1));
        return Base64UrlEncode(sealedBytes);
    }

    /// <summary>The payload of a token sealed by any active key, or null when it is not one of ours (or was tampered with).</summary>
    public TokenPayload? Decode(string token)
    {
        if (token.Length is < 40 or > MaxTokenLength) return null;
        var bytes = Base64UrlDecode(token);
        if (bytes is null || bytes.Length < 1 + NonceSize + TagSize + 1 || bytes[0] is not (Version or TrustVersion)) return null;
        var cipherLength = bytes.Length - 1 - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        foreach (var key in keys.Keys)
        {
            using var gcm = new AesGcm(key, TagSize);
            try
            {
                gcm.Decrypt(bytes.AsSpan(1, NonceSize), bytes.AsSpan(1 + NonceSize, cipherLength), bytes.AsSpan(bytes.Length - TagSize), plain, bytes.AsSpan(0, 1));
                return Deserialize(plain, withTrust: bytes[0] == TrustVersion);
            }
            catch (AuthenticationTagMismatchException)
            {
                // Sealed by another key (or forged): try the next.
            }
        }
        return null;
    }

    private static byte[] Serialize(TokenPayload p)
    {
        using var stream = new MemoryStream(128);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write((byte)p.Methods);
        w.Write(p.UserId);
        w.Write((byte)p.Scope);
        w.Write(p.ScopeId ?? "");
        w.Write(p.IssuedAt.ToUnixTimeMilliseconds() * 1000 + p.IssuedAt.Ticks / 10 % 1000);
        w.Write(p.ExpiresAt.ToUnixTimeSeconds());
        w.Write((byte)p.AuditIds.Count);
        foreach (var id in p.AuditIds) w.Write(id);
        w.Write(p.ApplicationCredentialId ?? "");
        if (p.TrustId is not null) w.Write(p.TrustId);
        w.Flush();
        return stream.ToArray();
    }

    private static TokenPayload? Deserialize(byte[] plain, bool withTrust)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(plain), Encoding.UTF8);
            var methods = (AuthMethods)r.ReadByte();
            var user = r.ReadString();
            var scope = (ScopeKind)r.ReadByte();
            var scopeId = r.ReadString();
            var issuedMicros = r.ReadInt64();
            var expires = r.ReadInt64();
            var audits = new string[r.ReadByte()];
            for (var i = 0; i < audits.Length; i++) audits[i] = r.ReadString();
            var appCredential = r.ReadString();
            var trust = withTrust ? r.ReadString() : null;
            if (trust is { Length: 0 }) return null;
            var issued = DateTimeOffset.FromUnixTimeMilliseconds(issuedMicros / 1000).AddTicks(issuedMicros % 1000 * 10);
            return new TokenPayload(user, methods, scope, scopeId.Length == 0 ? null : scopeId, issued,
                DateTimeOffset.FromUnixTimeSeconds(expires), audits, appCredential.Length == 0 ? null : appCredential, trust);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>Microseconds since the epoch, the unit revocation events compare in.</summary>
    public static long Micros(DateTimeOffset time) => time.ToUnixTimeMilliseconds() * 1000 + time.Ticks / 10 % 1000;

    /// <summary>A new random audit id (22 characters, as Keystone's).</summary>
    public static string NewAuditId() => Base64UrlEncode(RandomNumberGenerator.GetBytes(16));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = (s.Length % 4) switch { 2 => s + "==", 3 => s + "=", 0 => s, _ => "" };
        if (s.Length == 0) return null;
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

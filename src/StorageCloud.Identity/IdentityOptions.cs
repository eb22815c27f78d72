using Microsoft.Extensions.Configuration;
using StorageCloud.Auth;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Identity;

/// <summary>The identity service's settings: the auth library's (database, keys, roles) and its own.</summary>
public sealed record IdentityOptions
{
    /// <summary>The database, key repository and roles, shared with every node that validates tokens.</summary>
    public required AuthOptions Auth { get; init; }

    /// <summary>How long an issued token is valid.</summary>
    public TimeSpan TokenExpiration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>PBKDF2-SHA512 rounds for new password hashes.</summary>
    public int PasswordHashRounds { get; init; } = 210_000;

    /// <summary>Failed logins from one address within <see cref="LoginFailureWindow"/> before further attempts get 429; 0 turns the limit off.</summary>
    public int LoginFailureLimit { get; init; } = 10;

    /// <summary>The window the failed logins are counted over, and how long a limited address waits.</summary>
    public TimeSpan LoginFailureWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Failed password logins in a row after which a user is locked out for <see cref="LockoutDuration"/>; 0 turns lockout off.</summary>
    public int LockoutFailureAttempts { get; init; }

    /// <summary>How long a locked-out user stays locked out.</summary>
    public TimeSpan LockoutDuration { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How many of a user's latest passwords (the current one included) a self-service change may not reuse; 0 turns the check off.</summary>
    public int UniqueLastPasswordCount { get; init; }

    /// <summary>The bootstrap admin's password; generated and kept in the data directory when not set.</summary>
    public string? AdminPassword { get; init; }

    /// <summary>The catalog's region.</summary>
    public string Region { get; init; } = "RegionOne";

    /// <summary>The host name or address the catalog's URLs use; the bind address (or 127.0.0.1) when not set.</summary>
    public string? PublicHost { get; init; }

    /// <summary>The role whose holders act on every Swift account.</summary>
    public string ResellerAdminRole => Auth.ResellerAdminRole;
}

/// <summary>The identity service's own options in the "Identity" section (the auth library declares the rest).</summary>
public static class IdentityConfig
{
    /// <summary>The identity service's options in the "Identity" section.</summary>
    public static readonly OptionSection Section = new("Identity");

    private static readonly Int32Option TokenExpirationSeconds = Section.Int32("TokenExpirationSeconds", 3600, 60, 30 * 86400, "how long an issued token is valid");
    private static readonly Int32Option PasswordHashRounds = Section.Int32("PasswordHashRounds", 210_000, 1_000, 10_000_000, "PBKDF2-SHA512 rounds of new password hashes");
    private static readonly Int32Option LoginFailureLimit = Section.Int32("LoginFailureLimit", 10, 0, 1_000_000,
        "failed logins from one address within the window before further attempts get `429`; `0` turns it off");
    private static readonly Int32Option LoginFailureWindowSeconds = Section.Int32("LoginFailureWindowSeconds", 60, 1, 86400, "the window failed logins are counted over");
    private static readonly Int32Option LockoutFailureAttempts = Section.Int32("LockoutFailureAttempts", 0, 0, 1_000,
        "failed password logins in a row after which the user is locked out (Keystone's `lockout_failure_attempts`); `0` turns it off");
    private static readonly Int32Option LockoutDurationSeconds = Section.Int32("LockoutDurationSeconds", 1800, 1, 30 * 86400, "how long a locked-out user stays locked out");
    private static readonly Int32Option UniqueLastPasswordCount = Section.Int32("UniqueLastPasswordCount", 0, 0, 100,
        "how many of a user's latest passwords a self-service change may not reuse (Keystone's `unique_last_password_count`); `0` turns it off");
    private static readonly StringOption AdminPassword = Section.String("AdminPassword", null,
        "the bootstrap `admin` user's password (only used when the user is first created)", defaultNote: "generated, kept in `<data>/identity/admin-password`");
    private static readonly StringOption Region = Section.String("Region", "RegionOne", "the catalog's region");
    private static readonly StringOption PublicHost = Section.String("PublicHost", null, "host name the catalog's URLs and the openrc use",
        defaultNote: "the bind address (`127.0.0.1` for `0.0.0.0`)");

    /// <summary>Reads the identity service's settings; paths default under the data directory.</summary>
    public static IdentityOptions Read(IConfiguration c, string dataDir) => new()
    {
        Auth = AuthConfig.Read(c, dataDir),
        TokenExpiration = TimeSpan.FromSeconds(TokenExpirationSeconds.Read(c)),
        PasswordHashRounds = PasswordHashRounds.Read(c),
        LoginFailureLimit = LoginFailureLimit.Read(c),
        LoginFailureWindow = TimeSpan.FromSeconds(LoginFailureWindowSeconds.Read(c)),
        LockoutFailureAttempts = LockoutFailureAttempts.Read(c),
        LockoutDuration = TimeSpan.FromSeconds(LockoutDurationSeconds.Read(c)),
        UniqueLastPasswordCount = UniqueLastPasswordCount.Read(c),
        AdminPassword = AdminPassword.Read(c),
        Region = Region.Read(c, "RegionOne"),
        PublicHost = PublicHost.Read(c),
    };
}

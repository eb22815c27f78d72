namespace StorageCloud.Identity;

/// <summary>The identity service's settings (the Identity section of the configuration).</summary>
public sealed record IdentityOptions
{
    /// <summary>"sqlite" (embedded, the default) or "postgres" (for more than one API node).</summary>
    public string Database { get; init; } = "sqlite";

    /// <summary>The ADO.NET connection string: a SQLite file or a PostgreSQL server.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Directory of the token keys (primary, secondary and staged), shared by every node that validates tokens.</summary>
    public required string KeyRepository { get; init; }

    /// <summary>How many keys the repository keeps: one staged, one primary, the rest secondary.</summary>
    public int MaxActiveKeys { get; init; } = 3;

    /// <summary>How long an issued token is valid.</summary>
    public TimeSpan TokenExpiration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>PBKDF2-SHA512 rounds for new password hashes.</summary>
    public int PasswordHashRounds { get; init; } = 210_000;

    /// <summary>Failed logins from one address within <see cref="LoginFailureWindow"/> before further attempts get 429; 0 turns the limit off.</summary>
    public int LoginFailureLimit { get; init; } = 10;

    /// <summary>The window the failed logins are counted over, and how long a limited address waits.</summary>
    public TimeSpan LoginFailureWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a node trusts what it read from the database when validating tokens (other nodes' changes).</summary>
    public TimeSpan ValidationCacheLifetime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The role whose holders act on every Swift account (keystoneauth's reseller_admin_role).</summary>
    public string ResellerAdminRole { get; init; } = "ResellerAdmin";

    /// <summary>Roles whose holders own their project's Swift account (keystoneauth's operator_roles).</summary>
    public IReadOnlyList<string> OperatorRoles { get; init; } = ["admin", "member"];

    /// <summary>Roles whose holders may only read their project's Swift account.</summary>
    public IReadOnlyList<string> ReaderRoles { get; init; } = ["reader"];
}

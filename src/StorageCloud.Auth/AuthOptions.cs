using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Auth;

/// <summary>What validating tokens takes: the identity database, the key repository, how long answers are trusted, and the roles that mean access.</summary>
public sealed record AuthOptions
{
    /// <summary>"sqlite" (embedded, the default) or "postgres" (for more than one API node).</summary>
    public string Database { get; init; } = "sqlite";

    /// <summary>The ADO.NET connection string: a SQLite file or a PostgreSQL server.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Directory of the token keys (primary, secondary and staged), shared by every node that validates tokens.</summary>
    public required string KeyRepository { get; init; }

    /// <summary>How many keys the repository keeps: one staged, one primary, the rest secondary.</summary>
    public int MaxActiveKeys { get; init; } = 3;

    /// <summary>How long a node trusts what it read from the database when validating tokens (other nodes' changes).</summary>
    public TimeSpan ValidationCacheLifetime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The role whose holders act on every Swift account (keystoneauth's reseller_admin_role).</summary>
    public string ResellerAdminRole { get; init; } = "ResellerAdmin";

    /// <summary>Roles whose holders own their project's Swift account (keystoneauth's operator_roles).</summary>
    public IReadOnlyList<string> OperatorRoles { get; init; } = ["admin", "member"];

    /// <summary>Roles whose holders may only read their project's Swift account.</summary>
    public IReadOnlyList<string> ReaderRoles { get; init; } = ["reader"];
}

/// <summary>The auth library's options, in the "Identity" section beside the identity service's own.</summary>
public static class AuthConfig
{
    /// <summary>The auth library's options in the "Identity" section.</summary>
    public static readonly OptionSection Section = new("Identity");

    private static readonly Service.Sql.SqlOptions Sql = new(Section, "identity", Path.Combine("identity", "identity.db"));
    private static readonly StringOption KeyRepository = Section.String("KeyRepository", null,
        "directory of the token keys; every node that validates tokens needs the same keys", defaultNote: "<data>/identity/token-keys");
    private static readonly Int32Option MaxActiveKeys = Section.Int32("MaxActiveKeys", 3, 2, 100,
        "keys kept by `storagecloud identity rotate-keys`: one staged, one primary, the rest secondary");
    private static readonly Int32Option ValidationCacheSeconds = Section.Int32("ValidationCacheSeconds", 5, 0, 3600,
        "how long a node trusts a validated token or EC2 key before reading the database again (changes made in the same process apply at once)");
    private static readonly StringOption AuthUrl = Section.String("AuthUrl", null,
        "the identity endpoint services name in a 401's `WWW-Authenticate` (keystonemiddleware's `www_authenticate_uri`)",
        defaultNote: "this process's identity service, or `http://<public host>:5000/v3`");
    private static readonly StringOption ResellerAdminRole = Section.String("ResellerAdminRole", "ResellerAdmin", "holders act on every Swift account");
    private static readonly ListOption OperatorRoles = Section.List("OperatorRoles", ["admin", "member"], "holders own their project's Swift account `AUTH_<project_id>`");
    private static readonly ListOption ReaderRoles = Section.List("ReaderRoles", ["reader"], "holders may only read their project's Swift account");

    /// <summary>The identity endpoint a service's 401 names: the configured one, or this process's identity service.</summary>
    public static string AuthUri(Service.Hosting.ServiceContext context) =>
        AuthUrl.Read(context.Configuration) ?? $"http://{context.PublicHost}:{(context.Runs("identity") ? context.PortOf("identity") : 5000).ToString(System.Globalization.CultureInfo.InvariantCulture)}/v3";

    /// <summary>Reads the options; relative paths and the defaults are under the data directory.</summary>
    public static AuthOptions Read(IConfiguration c, string dataDir)
    {
        var identityDir = Path.Combine(dataDir, "identity");
        var (database, connection) = Sql.Read(c, dataDir);
        return new AuthOptions
        {
            Database = database,
            ConnectionString = connection,
            KeyRepository = Path.GetFullPath(KeyRepository.Read(c, Path.Combine(identityDir, "token-keys")), dataDir),
            MaxActiveKeys = MaxActiveKeys.Read(c),
            ValidationCacheLifetime = TimeSpan.FromSeconds(ValidationCacheSeconds.Read(c)),
            ResellerAdminRole = ResellerAdminRole.Read(c, "ResellerAdmin"),
            OperatorRoles = OperatorRoles.Read(c),
            ReaderRoles = ReaderRoles.Read(c),
        };
    }
}

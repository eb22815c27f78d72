using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Identity;
using StorageCloud.Identity.Store;

namespace StorageCloud.Host.Configuration;

/// <summary>The Identity section: the identity service's options plus what the bootstrap and the openrc need.</summary>
public sealed record IdentityConfig
{
    /// <summary>Options known to the section.</summary>
    public static readonly string[] Options =
    [
        "Database", "ConnectionString", "KeyRepository", "MaxActiveKeys", "TokenExpirationSeconds", "PasswordHashRounds",
        "LoginFailureLimit", "LoginFailureWindowSeconds", "ValidationCacheSeconds", "AdminPassword", "Region", "PublicHost",
        "ResellerAdminRole", "OperatorRoles", "ReaderRoles",
    ];

    /// <summary>The identity service's own options.</summary>
    public required IdentityOptions Service { get; init; }

    /// <summary>The bootstrap admin's password; generated and kept in the data directory when not set.</summary>
    public string? AdminPassword { get; init; }

    /// <summary>The catalog's region.</summary>
    public required string Region { get; init; }

    /// <summary>The host name or address the catalog's URLs use; the bind address (or 127.0.0.1) when not set.</summary>
    public string? PublicHost { get; init; }

    /// <summary>Reads the section; relative paths are under the data directory.</summary>
    public static IdentityConfig Load(IConfiguration c, string dataDir)
    {
        var identityDir = Path.Combine(dataDir, "identity");
        var database = ConfigValues.GetChoice(c, "Identity:Database", "sqlite", "sqlite", "postgres");
        var connection = c["Identity:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connection))
        {
            if (database == "postgres") throw new ConfigurationException("Identity:ConnectionString", "is required with Identity:Database postgres");
            connection = IdentityDb.SqliteFile(Path.Combine(identityDir, "identity.db"));
        }
        return new IdentityConfig
        {
            Service = new IdentityOptions
            {
                Database = database,
                ConnectionString = connection,
                KeyRepository = Path.GetFullPath(ConfigValues.GetString(c, "Identity:KeyRepository", Path.Combine(identityDir, "token-keys")), dataDir),
                MaxActiveKeys = ConfigValues.GetInt32(c, "Identity:MaxActiveKeys", 3, 2, 100),
                TokenExpiration = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Identity:TokenExpirationSeconds", 3600, 60, 30 * 86400)),
                PasswordHashRounds = ConfigValues.GetInt32(c, "Identity:PasswordHashRounds", 210_000, 1_000, 10_000_000),
                LoginFailureLimit = ConfigValues.GetInt32(c, "Identity:LoginFailureLimit", 10, 0, 1_000_000),
                LoginFailureWindow = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Identity:LoginFailureWindowSeconds", 60, 1, 86400)),
                ValidationCacheLifetime = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Identity:ValidationCacheSeconds", 5, 0, 3600)),
                ResellerAdminRole = ConfigValues.GetString(c, "Identity:ResellerAdminRole", "ResellerAdmin"),
                OperatorRoles = ConfigValues.GetList(c, "Identity:OperatorRoles", ["admin", "member"]),
                ReaderRoles = ConfigValues.GetList(c, "Identity:ReaderRoles", ["reader"]),
            },
            AdminPassword = string.IsNullOrEmpty(c["Identity:AdminPassword"]) ? null : c["Identity:AdminPassword"],
            Region = ConfigValues.GetString(c, "Identity:Region", "RegionOne"),
            PublicHost = string.IsNullOrWhiteSpace(c["Identity:PublicHost"]) ? null : c["Identity:PublicHost"]!.Trim(),
        };
    }
}

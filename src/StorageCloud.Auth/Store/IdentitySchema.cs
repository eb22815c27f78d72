using StorageCloud.Service.Sql;

namespace StorageCloud.Auth.Store;

/// <summary>
/// The identity database's tables: the identity service writes them, and every node that validates tokens reads them
/// (users, projects, domains, role assignments, revocations, EC2 credentials). That shared reading is why they are
/// declared here, below every service, rather than inside the identity service.
/// </summary>
public static class IdentitySchema
{
    /// <summary>The component name schema_versions records.</summary>
    public const string Component = "identity";

    /// <summary>Each row type's table.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Tables = new Dictionary<Type, string>
    {
        [typeof(DomainRow)] = "domains", [typeof(ProjectRow)] = "projects", [typeof(UserRow)] = "users",
        [typeof(GroupRow)] = "user_groups", [typeof(RoleRow)] = "roles", [typeof(AssignmentRow)] = "assignments",
        [typeof(RegionRow)] = "regions", [typeof(ServiceRow)] = "services", [typeof(EndpointRow)] = "endpoints",
        [typeof(CredentialRow)] = "credentials", [typeof(AppCredentialRow)] = "application_credentials",
        [typeof(RevocationRow)] = "revocations",
    };

    /// <summary>The migrations, oldest first. The first is idempotent, so databases made before versions were kept take it too.</summary>
    public static readonly IReadOnlyList<SqlMigration> Migrations =
    [
        new(1,
        [
            "CREATE TABLE IF NOT EXISTS domains (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '', enabled BIGINT NOT NULL DEFAULT 1)",
            """
            CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, parent_id TEXT,
                description TEXT NOT NULL DEFAULT '', enabled BIGINT NOT NULL DEFAULT 1, UNIQUE (domain_id, name))
            """,
            """
            CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, enabled BIGINT NOT NULL DEFAULT 1,
                password_hash TEXT, default_project_id TEXT, extra TEXT NOT NULL DEFAULT '{}', UNIQUE (domain_id, name))
            """,
            "CREATE TABLE IF NOT EXISTS user_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', UNIQUE (domain_id, name))",
            "CREATE TABLE IF NOT EXISTS group_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id))",
            "CREATE TABLE IF NOT EXISTS roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '')",
            """
            CREATE TABLE IF NOT EXISTS assignments (type TEXT NOT NULL, actor_id TEXT NOT NULL, target_id TEXT NOT NULL, role_id TEXT NOT NULL,
                PRIMARY KEY (type, actor_id, target_id, role_id))
            """,
            "CREATE TABLE IF NOT EXISTS regions (id TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', parent_region_id TEXT)",
            "CREATE TABLE IF NOT EXISTS services (id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', enabled BIGINT NOT NULL DEFAULT 1)",
            """
            CREATE TABLE IF NOT EXISTS endpoints (id TEXT PRIMARY KEY, service_id TEXT NOT NULL, interface TEXT NOT NULL, region_id TEXT,
                url TEXT NOT NULL, enabled BIGINT NOT NULL DEFAULT 1)
            """,
            """
            CREATE TABLE IF NOT EXISTS credentials (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT, type TEXT NOT NULL,
                blob TEXT NOT NULL, access_key TEXT)
            """,
            "CREATE INDEX IF NOT EXISTS credentials_access ON credentials (access_key)",
            """
            CREATE TABLE IF NOT EXISTS application_credentials (id TEXT PRIMARY KEY, name TEXT NOT NULL, user_id TEXT NOT NULL,
                project_id TEXT NOT NULL, secret_hash TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', expires_at BIGINT,
                unrestricted BIGINT NOT NULL DEFAULT 0, roles TEXT NOT NULL DEFAULT '[]', UNIQUE (user_id, name))
            """,
            """
            CREATE TABLE IF NOT EXISTS revocations (audit_id TEXT, user_id TEXT, project_id TEXT, issued_before BIGINT NOT NULL,
                expires_at BIGINT NOT NULL)
            """,
        ]),
    ];

    /// <summary>Opens the identity database the options name, bringing its schema up to date.</summary>
    public static SqlDatabase Open(AuthOptions options) => new(options.Database, options.ConnectionString, Component, Migrations);
}

/// <summary>The identity tables' rows.</summary>
public sealed class IdentityStore(SqlDatabase db) : SqlStore(db, IdentitySchema.Tables);

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
        [typeof(ImpliedRoleRow)] = "implied_roles", [typeof(TrustRow)] = "trusts",
        [typeof(ConsumerRow)] = "consumers", [typeof(PolicyRow)] = "policies", [typeof(EndpointGroupRow)] = "endpoint_groups",
        [typeof(DomainConfigRow)] = "domain_configs", [typeof(PasswordHistoryRow)] = "password_history", [typeof(UserLockoutRow)] = "user_lockouts",
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
        // Domain-specific roles (a role name is unique within its domain, or among the global roles), OS-INHERIT
        // grants (the inherited flag is part of the key, as in Keystone, since a direct and an inherited grant of the
        // same role can coexist), role inference rules (seeded with bootstrap's admin > member > reader for databases
        // made when those were built in) and trusts. SQLite cannot change a table's keys, so both tables are rebuilt.
        new(2,
        [
            "CREATE TABLE roles_v2 (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', domain_id TEXT)",
            "INSERT INTO roles_v2 (id, name, description) SELECT id, name, description FROM roles",
            "DROP TABLE roles",
            "ALTER TABLE roles_v2 RENAME TO roles",
            "CREATE UNIQUE INDEX roles_global_name ON roles (name) WHERE domain_id IS NULL",
            "CREATE UNIQUE INDEX roles_domain_name ON roles (domain_id, name) WHERE domain_id IS NOT NULL",
            """
            CREATE TABLE assignments_v2 (type TEXT NOT NULL, actor_id TEXT NOT NULL, target_id TEXT NOT NULL, role_id TEXT NOT NULL,
                inherited BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (type, actor_id, target_id, role_id, inherited))
            """,
            "INSERT INTO assignments_v2 (type, actor_id, target_id, role_id) SELECT type, actor_id, target_id, role_id FROM assignments",
            "DROP TABLE assignments",
            "ALTER TABLE assignments_v2 RENAME TO assignments",
            "CREATE INDEX assignments_actor ON assignments (actor_id)",
            "CREATE TABLE IF NOT EXISTS implied_roles (prior_role_id TEXT NOT NULL, implied_role_id TEXT NOT NULL, PRIMARY KEY (prior_role_id, implied_role_id))",
            """
            INSERT INTO implied_roles (prior_role_id, implied_role_id)
            SELECT p.id, i.id FROM roles p, roles i WHERE p.domain_id IS NULL AND i.domain_id IS NULL
              AND ((p.name = 'admin' AND i.name = 'member') OR (p.name = 'member' AND i.name = 'reader'))
            """,
            """
            CREATE TABLE IF NOT EXISTS trusts (id TEXT PRIMARY KEY, trustor_user_id TEXT NOT NULL, trustee_user_id TEXT NOT NULL,
                project_id TEXT, impersonation BIGINT NOT NULL DEFAULT 0, expires_at BIGINT, remaining_uses BIGINT,
                roles TEXT NOT NULL DEFAULT '[]', created_at BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX IF NOT EXISTS trusts_trustor ON trusts (trustor_user_id)",
            "CREATE INDEX IF NOT EXISTS trusts_trustee ON trusts (trustee_user_id)",
        ]),
        // Keystone's extensions (OAuth consumers, policies, endpoint groups, domain configurations), project tags and
        // the security-compliance state (password history, failed-login lockouts); application credential expiry moves
        // from seconds to microseconds, as Keystone echoes the time it was given.
        new(3,
        [
            "CREATE TABLE IF NOT EXISTS consumers (id TEXT PRIMARY KEY, description TEXT, secret_hash TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}')",
            "CREATE TABLE IF NOT EXISTS policies (id TEXT PRIMARY KEY, type TEXT NOT NULL, blob TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}')",
            "CREATE TABLE IF NOT EXISTS endpoint_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, filters TEXT NOT NULL DEFAULT '{}')",
            "CREATE TABLE IF NOT EXISTS domain_configs (id TEXT PRIMARY KEY, config TEXT NOT NULL DEFAULT '{}')",
            "ALTER TABLE projects ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
            "UPDATE application_credentials SET expires_at = expires_at * 1000000 WHERE expires_at IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS password_history (user_id TEXT NOT NULL, password_hash TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS password_history_user ON password_history (user_id, created_at)",
            "CREATE TABLE IF NOT EXISTS user_lockouts (id TEXT PRIMARY KEY, failures BIGINT NOT NULL DEFAULT 0, last_failure BIGINT NOT NULL DEFAULT 0)",
        ]),
    ];

    /// <summary>Opens the identity database the options name, bringing its schema up to date.</summary>
    public static SqlDatabase Open(AuthOptions options) => new(options.Database, options.ConnectionString, Component, Migrations);
}

/// <summary>The identity tables' rows.</summary>
public sealed class IdentityStore(SqlDatabase db) : SqlStore(db, IdentitySchema.Tables);

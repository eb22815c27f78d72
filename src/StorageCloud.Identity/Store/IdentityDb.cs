using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace StorageCloud.Identity.Store;

/// <summary>
/// The identity database: opens connections to SQLite (embedded) or PostgreSQL and creates the schema. The SQL the
/// store runs is the common subset both engines accept (TEXT and BIGINT columns, ON CONFLICT, @parameters), so one
/// data-access layer serves both.
/// </summary>
public sealed class IdentityDb
{
    private readonly string _connectionString;
    private readonly bool _postgres;

    static IdentityDb()
    {
        // Columns are snake_case, rows are C# properties: project_id fills ProjectId.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    /// <summary>Opens (and creates, when new) the database the options name.</summary>
    public IdentityDb(IdentityOptions options)
    {
        _postgres = options.Database switch
        {
            "sqlite" => false,
            "postgres" => true,
            _ => throw new ArgumentException($"unknown identity database '{options.Database}' (sqlite or postgres)"),
        };
        _connectionString = options.ConnectionString;
        if (!_postgres && Path.GetDirectoryName(Path.GetFullPath(new SqliteConnectionStringBuilder(_connectionString).DataSource)) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);
        using var connection = Open();
        if (!_postgres)
        {
            // WAL lets token validation read while an admin writes; the busy timeout waits out a concurrent writer.
            connection.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");
        }
        foreach (var statement in Schema) connection.Execute(statement);
    }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Engine => _postgres ? "postgres" : "sqlite";

    /// <summary>An open connection; the caller disposes it (both drivers pool them).</summary>
    public DbConnection Open()
    {
        DbConnection connection = _postgres ? new NpgsqlConnection(_connectionString) : new SqliteConnection(_connectionString);
        connection.Open();
        if (!_postgres) connection.Execute("PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
        return connection;
    }

    /// <summary>A SQLite connection string for a database file, with the pooling the store relies on.</summary>
    public static string SqliteFile(string path) =>
        new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();

    private static readonly string[] Schema =
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
    ];
}

using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace StorageCloud.Service.Sql;

/// <summary>One step of a component's schema: the statements that take it from the version before to <see cref="Version"/>.</summary>
public sealed record SqlMigration(int Version, string[] Statements);

/// <summary>
/// A service's SQL database: SQLite embedded by default, PostgreSQL when more than one API node shares it. The SQL
/// services run is the subset both engines accept (TEXT and BIGINT columns, ON CONFLICT, @parameters), so one
/// data-access layer serves both. Each component's schema is brought up to date at open by its migrations, whose
/// versions are kept in schema_versions.
/// </summary>
public sealed class SqlDatabase
{
    private readonly string _connectionString;
    private readonly bool _postgres;

    static SqlDatabase()
    {
        // Columns are snake_case, rows are C# properties: project_id fills ProjectId.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    /// <summary>Opens (and creates, when new) the database and applies the component's migrations it lacks.</summary>
    /// <param name="engine">"sqlite" or "postgres".</param>
    /// <param name="connectionString">A SQLite file (see <see cref="SqliteFile"/>) or a PostgreSQL server.</param>
    /// <param name="component">Whose schema this is ("identity", "volume"), as schema_versions records it.</param>
    /// <param name="migrations">The component's migrations, oldest first.</param>
    public SqlDatabase(string engine, string connectionString, string component, IReadOnlyList<SqlMigration> migrations)
    {
        _postgres = engine switch
        {
            "sqlite" => false,
            "postgres" => true,
            _ => throw new ArgumentException($"unknown database engine '{engine}' (sqlite or postgres)"),
        };
        _connectionString = connectionString;
        if (!_postgres && Path.GetDirectoryName(Path.GetFullPath(new SqliteConnectionStringBuilder(_connectionString).DataSource)) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);
        using var connection = Open();
        if (!_postgres)
        {
            // WAL lets readers (token validation) read while a writer writes; the busy timeout waits out a concurrent writer.
            connection.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");
        }
        Migrate(connection, component, migrations);
    }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Engine => _postgres ? "postgres" : "sqlite";

    /// <summary>
    /// "<paramref name="column"/> is one of the list parameter <paramref name="parameter"/>" (pass it an array): Dapper
    /// expands `IN @p` into one parameter per item for SQLite, but hands PostgreSQL the whole list as one array, which
    /// only `= ANY(@p)` takes.
    /// </summary>
    public string InList(string column, string parameter) => _postgres ? $"{column} = ANY(@{parameter})" : $"{column} IN @{parameter}";

    /// <summary>An open connection; the caller disposes it (both drivers pool them).</summary>
    public DbConnection Open()
    {
        DbConnection connection = _postgres ? new NpgsqlConnection(_connectionString) : new SqliteConnection(_connectionString);
        connection.Open();
        if (!_postgres) connection.Execute("PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
        return connection;
    }

    /// <summary>True when the database answers (for health checks).</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = Open();
            return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)) == 1;
        }
        catch (DbException)
        {
            return false;
        }
    }

    /// <summary>A SQLite connection string for a database file, with the pooling services rely on.</summary>
    public static string SqliteFile(string path) =>
        new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();

    private static void Migrate(DbConnection connection, string component, IReadOnlyList<SqlMigration> migrations)
    {
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version BIGINT NOT NULL)");
        var current = connection.ExecuteScalar<long?>("SELECT version FROM schema_versions WHERE component = @component", new { component }) ?? 0;
        // By version, not list position: migrations written side by side can land in the list in either order.
        foreach (var migration in migrations.OrderBy(m => m.Version))
        {
            if (migration.Version <= current) continue;
            using var transaction = connection.BeginTransaction();
            foreach (var statement in migration.Statements) connection.Execute(statement, transaction: transaction);
            connection.Execute(
                "INSERT INTO schema_versions (component, version) VALUES (@component, @version) ON CONFLICT (component) DO UPDATE SET version = @version",
                new { component, version = (long)migration.Version }, transaction);
            transaction.Commit();
            current = migration.Version;
        }
    }
}

using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Service.Sql;

/// <summary>
/// The two options every service with a SQL store declares in its own section: <c>Database</c> (the engine) and
/// <c>ConnectionString</c>, which defaults to a SQLite file under the data directory and is required for PostgreSQL.
/// </summary>
public sealed class SqlOptions
{
    private readonly ChoiceOption _engine;
    private readonly StringOption _connection;
    private readonly string _file;

    /// <summary>Declares both options in <paramref name="section"/>; <paramref name="file"/> is the SQLite file's path under the data directory.</summary>
    public SqlOptions(OptionSection section, string what, string file)
    {
        _file = file;
        _engine = section.Choice("Database", "sqlite", ["sqlite", "postgres"], "`sqlite` (embedded) or `postgres` (for more than one API node)");
        _connection = section.String("ConnectionString", null,
            $"ADO.NET connection string of the {what} database; required for `postgres` (`Host=...;Username=...;Password=...;Database=...`)",
            defaultNote: $"`<data>/{file}` (SQLite)");
    }

    /// <summary>The engine ("sqlite" or "postgres") and the connection string.</summary>
    public (string Engine, string ConnectionString) Read(IConfiguration configuration, string dataDir)
    {
        var engine = _engine.Read(configuration);
        var connection = _connection.Read(configuration);
        if (connection is not null) return (engine, connection);
        if (engine == "postgres") throw new ConfigurationException(_connection.Key, $"is required with {_engine.Key} postgres");
        return (engine, SqlDatabase.SqliteFile(Path.Combine(dataDir, _file)));
    }
}

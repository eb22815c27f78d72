using System.Collections.Concurrent;
using System.Data.Common;
using System.Reflection;
using System.Text;
using Dapper;

namespace StorageCloud.Service.Sql;

/// <summary>
/// Reads and writes a service's rows. Tables come from the row types (given at construction) and columns from their
/// properties (ProjectId is project_id), never from requests; callers pass only filter values. Every write bumps
/// <see cref="Generation"/>, which lets this process's caches drop anything read before it.
/// </summary>
public class SqlStore(SqlDatabase db, IReadOnlyDictionary<Type, string> tables)
{
    private static readonly ConcurrentDictionary<Type, (string[] Columns, PropertyInfo[] Properties)> Shapes = new();

    private long _generation;

    /// <summary>Counts this process's writes; a cached answer read at an older generation may be stale.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The database engine in use.</summary>
    public string Engine => db.Engine;

    /// <summary>The database.</summary>
    public SqlDatabase Database => db;

    /// <summary>The row with this id, or null.</summary>
    public async Task<T?> GetAsync<T>(string id) where T : class
    {
        var (table, _) = Shape<T>();
        await using var c = db.Open();
        return await c.QueryFirstOrDefaultAsync<T>($"SELECT * FROM {table} WHERE id = @id", new { id });
    }

    /// <summary>Rows whose columns equal the given values (null values are left out of the filter), ordered by id.</summary>
    public async Task<List<T>> ListAsync<T>(params (string Column, object? Value)[] filters) where T : class
    {
        var (table, columns) = Shape<T>();
        var sql = new StringBuilder($"SELECT * FROM {table}");
        var args = new DynamicParameters();
        var first = true;
        foreach (var (column, value) in filters)
        {
            if (value is null) continue;
            if (Array.IndexOf(columns, column) < 0) throw new ArgumentException($"no column {column} in {table}");
            sql.Append(first ? " WHERE " : " AND ").Append(column).Append(" = @").Append(column);
            args.Add(column, value);
            first = false;
        }
        if (Array.IndexOf(columns, "id") >= 0) sql.Append(" ORDER BY id");
        await using var c = db.Open();
        return (await c.QueryAsync<T>(sql.ToString(), args)).AsList();
    }

    /// <summary>Inserts a row; false when its key (or a unique name) is already taken.</summary>
    public async Task<bool> InsertAsync<T>(T row) where T : class
    {
        var (table, columns) = Shape<T>();
        var sql = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "@" + ParameterOf(c)))}) ON CONFLICT DO NOTHING";
        await using var c = db.Open();
        var inserted = await c.ExecuteAsync(sql, row) == 1;
        Interlocked.Increment(ref _generation);
        return inserted;
    }

    /// <summary>Writes every column of an existing row (by id); false when a unique name clashes.</summary>
    public async Task<bool> UpdateAsync<T>(T row) where T : class
    {
        var (table, columns) = Shape<T>();
        var sets = string.Join(", ", columns.Where(c => c != "id").Select(c => $"{c} = @{ParameterOf(c)}"));
        await using var c = db.Open();
        try
        {
            await c.ExecuteAsync($"UPDATE {table} SET {sets} WHERE id = @Id", row);
            return true;
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            return false;
        }
        finally
        {
            Interlocked.Increment(ref _generation);
        }
    }

    /// <summary>Deletes the row with this id; false when there was none.</summary>
    public async Task<bool> DeleteAsync<T>(string id) where T : class
    {
        var (table, _) = Shape<T>();
        return await ExecuteAsync($"DELETE FROM {table} WHERE id = @id", new { id }) > 0;
    }

    /// <summary>Runs a write statement (for the joins and multi-key rows the generic calls do not cover).</summary>
    public async Task<int> ExecuteAsync(string sql, object? args = null)
    {
        await using var c = db.Open();
        var count = await c.ExecuteAsync(sql, args);
        Interlocked.Increment(ref _generation);
        return count;
    }

    /// <summary>Runs a query (for the joins the generic calls do not cover).</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var c = db.Open();
        return (await c.QueryAsync<T>(sql, args)).AsList();
    }

    private static bool IsUniqueViolation(DbException e) =>
        e.SqlState == "23505" || e.Message.Contains("UNIQUE constraint failed", StringComparison.Ordinal);

    private static string ParameterOf(string column)
    {
        var parts = column.Split('_');
        return string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    private (string Table, string[] Columns) Shape<T>()
    {
        if (!tables.TryGetValue(typeof(T), out var table)) throw new ArgumentException($"{typeof(T).Name} is not a row of this store");
        var (columns, _) = Shapes.GetOrAdd(typeof(T), type =>
        {
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            var names = properties.Select(p => string.Concat(p.Name.Select((ch, i) => char.IsUpper(ch) && i > 0 ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()))).ToArray();
            return (names, properties);
        });
        return (table, columns);
    }
}

using Dapper;
using StorageCloud.Service.Sql;

namespace StorageCloud.Service.Tests.Sql;

/// <summary>A service's SQL store: migrations applied once each, in order, and rows by type.</summary>
public sealed class SqlDatabaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-sql-").FullName;

    private sealed class NoteRow
    {
        public string Id { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public long Size { get; set; }
    }

    private static readonly SqlMigration[] V1 = [new(1, ["CREATE TABLE notes (id TEXT PRIMARY KEY, project_id TEXT NOT NULL)"])];
    private static readonly SqlMigration[] V2 = [.. V1, new(2, ["ALTER TABLE notes ADD COLUMN size BIGINT NOT NULL DEFAULT 0"])];

    [Fact]
    public async Task Migrations_run_once_in_order_and_rows_round_trip_by_type()
    {
        var file = SqlDatabase.SqliteFile(Path.Combine(_dir, "db", "notes.db"));
        var first = new SqlDatabase("sqlite", file, "notes", V1);
        using (var c = first.Open()) c.Execute("INSERT INTO notes (id, project_id) VALUES ('a', 'p')");
        // Opening again with a new migration applies only that one and keeps the rows.
        var db = new SqlDatabase("sqlite", file, "notes", V2);
        var store = new SqlStore(db, new Dictionary<Type, string> { [typeof(NoteRow)] = "notes" });
        Assert.Equal(0, (await store.GetAsync<NoteRow>("a"))!.Size);
        var before = store.Generation;
        Assert.True(await store.InsertAsync(new NoteRow { Id = "b", ProjectId = "p", Size = 7 }));
        Assert.False(await store.InsertAsync(new NoteRow { Id = "b", ProjectId = "q" }));
        Assert.True(store.Generation > before);
        Assert.Equal(["a", "b"], (await store.ListAsync<NoteRow>(("project_id", "p"))).Select(r => r.Id));
        Assert.Throws<ArgumentException>(() => store.ListAsync<NoteRow>(("no_such_column", "x")).GetAwaiter().GetResult());
        using (var c = db.Open()) Assert.Equal(2L, c.ExecuteScalar<long>("SELECT version FROM schema_versions WHERE component = 'notes'"));
        Assert.True(await db.PingAsync(CancellationToken.None));
        Assert.Throws<ArgumentException>(() => new SqlDatabase("oracle", file, "notes", V1));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}

namespace StorageCloud.Identity.Tests;

/// <summary>The identity API over the embedded SQLite database (the default).</summary>
public sealed class SqliteIdentityApiTests : IdentityApiSuite
{
    protected override Task<IdentityHost> StartAsync(int loginFailureLimit = 10) => IdentityHost.StartAsync(loginFailureLimit: loginFailureLimit);
}

/// <summary>The same suite over PostgreSQL, the engine for deployments with more than one API node.</summary>
public sealed class PostgresIdentityApiTests(PostgresServer server) : IdentityApiSuite, IClassFixture<PostgresServer>
{
    protected override async Task<IdentityHost> StartAsync(int loginFailureLimit = 10) =>
        await IdentityHost.StartAsync(await server.CreateDatabaseAsync(), loginFailureLimit);
}

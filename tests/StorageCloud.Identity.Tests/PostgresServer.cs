using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace StorageCloud.Identity.Tests;

/// <summary>
/// A throwaway PostgreSQL server on 127.0.0.1 (Debian's postgresql, which deploy/test.sh installs): initdb into a
/// temp directory, started on a free port, one fresh database per test host, stopped at the end. It fails, never
/// skips, when PostgreSQL is not installed.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sc-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private string _bin = "";
    private int _port;

    public async Task InitializeAsync()
    {
        var versions = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [];
        _bin = versions.Select(v => Path.Combine(v, "bin")).FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")))
            ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql; deploy/test.sh does this)");
        Directory.CreateDirectory(_root);
        var data = Path.Combine(_root, "data");
        if (Environment.UserName == "root")
        {
            // PostgreSQL refuses to run as root: the server runs as the postgres user the package created.
            await RunAsync("chown", "-R", "postgres:postgres", _root);
        }
        await RunAsPostgresAsync(Path.Combine(_bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        _port = FreePort();
        await RunAsPostgresAsync(Path.Combine(_bin, "pg_ctl"), "-D", data, "-l", Path.Combine(_root, "log"), "-w", "-t", "60",
            "-o", $"-p {_port} -h 127.0.0.1 -k {_root} -F", "start");
    }

    /// <summary>A new, empty database and its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "sc_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    private string ConnectionString(string database) => $"Host=127.0.0.1;Port={_port};Username=postgres;Database={database};Pooling=true";

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsPostgresAsync(Path.Combine(_bin, "pg_ctl"), "-D", Path.Combine(_root, "data"), "-m", "immediate", "stop");
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static Task RunAsPostgresAsync(string program, params string[] args) =>
        Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", program, .. args]) : RunAsync(program, args);

    private static async Task RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await stdout} {await stderr}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace StorageCloud.Host.Tests;

/// <summary>The real `storagecloud` executable run as a child process, with its output captured.</summary>
public sealed partial class StorageCloudProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private StorageCloudProcess(Process process)
    {
        _process = process;
    }

    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "storagecloud.dll");

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public int Id => _process.Id;

    public static StorageCloudProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(ExecutablePath);
        var list = args.ToList();
        foreach (var arg in list) info.ArgumentList.Add(arg);
        // Every server a test starts listens on free ports only: never the defaults another process may hold.
        foreach (var port in new[] { "--object-port", "--container-port", "--account-port", "--identity-port", "--volume-port", "--nbd-port", "--image-port", "--network-port", "--compute-port", "--dashboard-port" })
        {
            if (list.Count > 0 && list[0] is "aio" or "serve" && !list.Contains(port))
            {
                info.ArgumentList.Add(port);
                info.ArgumentList.Add(FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        // Only what the test says reaches the child: no STORAGECLOUD__ settings leak in from the outside.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("STORAGECLOUD__", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new StorageCloudProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (result._stdout) result._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (result._stderr) result._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs to completion and returns the exit code (the process is killed after the timeout).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args,
        IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        await using var process = Start(args, environment, workingDirectory);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, process.Stdout, process.Stderr);
    }

    /// <summary>The variables of the openrc an appliance wrote in its data directory (its admin's credentials).</summary>
    public static Dictionary<string, string> OpenRc(string dataDir)
    {
        var env = new Dictionary<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(dataDir, "openrc")))
        {
            if (!line.StartsWith("export ", StringComparison.Ordinal)) continue;
            var eq = line.IndexOf('=');
            env[line["export ".Length..eq]] = line[(eq + 1)..];
        }
        return env;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"storagecloud did not exit within {timeout}. stdout: {Stdout} stderr: {Stderr}");
        }
        // WaitForExit without a timeout drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Polls until the server answers /healthcheck (any status) or the process dies.</summary>
    public async Task WaitUntilListeningAsync(int port, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"storagecloud exited with {_process.ExitCode}: {Stderr}");
            try
            {
                using var response = await client.GetAsync($"http://127.0.0.1:{port}/healthcheck");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"storagecloud did not listen on {port}: {Stdout} {Stderr}");
    }

    public void SendSignal(int signal)
    {
        if (Kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
    }

    public const int SIGTERM = 15;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    /// <summary>A free port for a child process to listen on (<see cref="StorageCloud.Tests.TestPorts.Free"/>).</summary>
    public static int FreePort() => StorageCloud.Tests.TestPorts.Free();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

using System.Diagnostics;

namespace StorageCloud.Ring.Tests;

/// <summary>Runs external programs (Swift's tools, our CLI) and a temp directory that cleans up after itself.</summary>
internal static class Tools
{
    /// <summary>Debian's python, which has python3-swift (a python on PATH from elsewhere may not).</summary>
    public const string DebianPython = "/usr/bin/python3";

    public static (int Exit, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command that must succeed; fails the test with its output otherwise.</summary>
    public static string MustRun(string file, params string[] args)
    {
        var (exit, stdout, stderr) = Run(file, args);
        Assert.True(exit == 0, $"{file} {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    public static (int Exit, string Stdout, string Stderr) RingBuilder(string directory, params string[] args)
        => Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "storagecloud-ring-builder.dll"), .. args], directory);
}

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sc-ring-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, true);
        }
        catch (IOException)
        {
        }
    }
}

using BenchmarkDotNet.Running;

namespace StorageCloud.Benchmarks;

/// <summary>Runs the suites chosen on the command line (BenchmarkDotNet's --filter, --job, ...).</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

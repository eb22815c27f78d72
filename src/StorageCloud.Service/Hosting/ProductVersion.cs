using System.Reflection;

namespace StorageCloud.Service.Hosting;

/// <summary>The product's version, from the assembly (every project carries the same one).</summary>
public static class ProductVersion
{
    /// <summary>"0.1.0".</summary>
    public static string Current { get; } =
        typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}

using System.Text.Json;

namespace StorageCloud.Common.Tests.Vectors;

/// <summary>Loads the reference vectors that generate.py produced with Debian's python3-swift.</summary>
internal static class ReferenceVectors
{
    public static JsonElement Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Vectors", name);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }
}

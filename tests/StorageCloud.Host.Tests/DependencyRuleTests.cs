using System.Xml.Linq;

namespace StorageCloud.Host.Tests;

/// <summary>
/// The dependency rule of docs/architecture.md, checked on the project files: every reference points to a lower
/// layer, services never reference each other, and the storage engine and Common carry no ASP.NET.
/// </summary>
public sealed class DependencyRuleTests
{
    /// <summary>Each source project's layer: a project may reference only projects of lower layers.</summary>
    private static readonly Dictionary<string, int> Layers = new()
    {
        ["StorageCloud.Common"] = 0,
        ["StorageCloud.Ring"] = 1,
        ["StorageCloud.Storage.Engine"] = 1,
        ["StorageCloud.Service"] = 1,
        ["StorageCloud.Auth"] = 2,
        ["StorageCloud.ObjectLayer"] = 2,
        ["StorageCloud.Storage"] = 3,
        ["StorageCloud.Proxy"] = 3,
        ["StorageCloud.Identity"] = 3,
        ["StorageCloud.Block"] = 3,
        ["StorageCloud.Image"] = 3,
        ["StorageCloud.Network"] = 3,
        ["StorageCloud.Compute"] = 3,
        ["StorageCloud.Dashboard"] = 3,
        ["StorageCloud.Host"] = 4,
    };

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StorageCloud.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("StorageCloud.sln not found above " + AppContext.BaseDirectory);
    }

    private static IEnumerable<(string Project, XDocument Document)> SourceProjects()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "*.csproj", SearchOption.AllDirectories))
            yield return (Path.GetFileNameWithoutExtension(file), XDocument.Load(file));
    }

    [Fact]
    public void Every_source_project_has_a_layer_and_references_only_lower_layers()
    {
        var problems = new List<string>();
        var seen = 0;
        foreach (var (project, document) in SourceProjects())
        {
            seen++;
            if (!Layers.TryGetValue(project, out var layer))
            {
                problems.Add($"{project} has no layer: add it to the table here and to docs/architecture.md");
                continue;
            }
            foreach (var reference in document.Descendants("ProjectReference"))
            {
                var target = Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value.Replace('\\', '/'));
                if (!Layers.TryGetValue(target, out var targetLayer)) problems.Add($"{project} references {target}, which has no layer");
                else if (targetLayer >= layer) problems.Add($"{project} (layer {layer}) references {target} (layer {targetLayer}): an arrow runs up or sideways");
            }
        }
        Assert.Equal(Layers.Count, seen);
        Assert.Empty(problems);
    }

    [Fact]
    public void The_storage_engine_and_common_carry_no_aspnet()
    {
        foreach (var (project, document) in SourceProjects())
        {
            if (project is not ("StorageCloud.Common" or "StorageCloud.Storage.Engine" or "StorageCloud.Ring")) continue;
            Assert.DoesNotContain(document.Descendants("FrameworkReference"), r => r.Attribute("Include")!.Value == "Microsoft.AspNetCore.App");
            Assert.Equal("Microsoft.NET.Sdk", document.Root!.Attribute("Sdk")!.Value);
        }
    }
}

namespace StorageCloud.Host.Tests;

/// <summary>docs/configuration.md holds, for every section, exactly the table the options' declarations generate.</summary>
public sealed class ConfigurationDocsTests
{
    [Fact]
    public void Every_sections_table_in_the_docs_is_the_one_generated_from_the_declarations()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "StorageCloud.sln"))) root = root.Parent;
        var doc = File.ReadAllText(Path.Combine(root!.FullName, "docs", "configuration.md")).ReplaceLineEndings("\n");
        var catalog = Configuration.HostConfiguration.Catalog(Program.Services());
        var stale = new List<string>();
        foreach (var section in catalog.Sections)
        {
            var marker = $"<!-- options:{section} -->\n";
            var at = doc.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0)
            {
                stale.Add($"{section}: no table (add a '{marker.Trim()}' line and run storagecloud options)");
                continue;
            }
            var start = at + marker.Length;
            var end = doc.IndexOf("\n\n", start, StringComparison.Ordinal);
            var table = end < 0 ? doc[start..] : doc[start..(end + 1)];
            if (table != catalog.MarkdownTable(section)) stale.Add($"{section}: the table differs from `storagecloud options`");
        }
        foreach (var line in doc.Split('\n'))
        {
            if (line.StartsWith("<!-- options:", StringComparison.Ordinal) && !catalog.Sections.Contains(line["<!-- options:".Length..^" -->".Length]))
                stale.Add($"{line}: no such section");
        }
        Assert.Empty(stale);
    }
}

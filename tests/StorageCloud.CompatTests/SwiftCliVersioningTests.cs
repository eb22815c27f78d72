namespace StorageCloud.CompatTests;

/// <summary>The swift CLI's object versioning: enable it, overwrite, list every version.</summary>
public sealed class SwiftCliVersioningTests(AioFixture aio) : IClassFixture<AioFixture>
{
    [Fact]
    public async Task Post_versions_enabled_overwrite_and_list_versions()
    {
        await aio.SwiftAsync("post", "versioned");
        await aio.SwiftAsync("post", "-H", "X-Versions-Enabled: true", "versioned");
        Assert.Contains("Versions-Enabled: True", await aio.SwiftAsync("stat", "versioned"));
        var work = Path.Combine(aio.Root, "ver");
        Directory.CreateDirectory(work);
        foreach (var text in new[] { "first", "second" })
        {
            await File.WriteAllTextAsync(Path.Combine(work, "note.txt"), text);
            var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", ["upload", "versioned", "note.txt"], aio.SwiftEnv(), work);
            Assert.True(exit == 0, stdout + stderr);
        }
        var lines = (await aio.SwiftAsync("list", "--versions", "versioned")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.EndsWith(" note.txt", l));
        // Each line carries a distinct version id (not "null").
        var ids = lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).ToList();
        Assert.DoesNotContain("null", ids);
        Assert.Equal(2, ids.Distinct().Count());
        Assert.Equal(["note.txt"], (await aio.SwiftAsync("list", "versioned")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}

using System.Security.Cryptography;

namespace StorageCloud.CompatTests;

/// <summary>The swift CLI's segmented uploads (SLO and DLO) and their deletes, against the appliance.</summary>
public sealed class SwiftCliLargeObjectTests(AioFixture aio) : IClassFixture<AioFixture>
{
    [Theory]
    [InlineData("slo", true)]
    [InlineData("dlo", false)]
    public async Task Segmented_upload_downloads_with_the_same_md5_and_deletes_with_its_segments(string container, bool useSlo)
    {
        var work = Path.Combine(aio.Root, container);
        Directory.CreateDirectory(work);
        var data = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 123);
        await File.WriteAllBytesAsync(Path.Combine(work, "five.bin"), data);
        string[] upload = useSlo ? ["upload", "--use-slo", "-S", "1048576", container, "five.bin"] : ["upload", "-S", "1048576", container, "five.bin"];
        var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", upload, aio.SwiftEnv(), work);
        Assert.True(exit == 0, stdout + stderr);
        var segments = await aio.SwiftAsync("list", container + "_segments");
        Assert.Equal(6, segments.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var stat = await aio.SwiftAsync("stat", container, "five.bin");
        Assert.Contains($"Content Length: {data.Length}", stat);
        Assert.Contains(useSlo ? "X-Static-Large-Object: True" : $"Manifest: {container}_segments/five.bin/", stat);

        var down = Path.Combine(work, "down");
        Directory.CreateDirectory(down);
        (exit, stdout, stderr) = await CliRunner.RunAsync("swift", ["download", container, "five.bin"], aio.SwiftEnv(), down);
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), Convert.ToHexStringLower(MD5.HashData(await File.ReadAllBytesAsync(Path.Combine(down, "five.bin")))));

        await aio.SwiftAsync("delete", container, "five.bin");
        Assert.Equal("", (await aio.SwiftAsync("list", container)).Trim());
        Assert.Equal("", (await aio.SwiftAsync("list", container + "_segments")).Trim());
    }
}

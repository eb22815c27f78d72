using System.Security.Cryptography;

namespace StorageCloud.CompatTests;

/// <summary>The appliance with one device unmounted (its marker file gone): the swift CLI still writes and reads.</summary>
public sealed class UnmountedDeviceTests(AioFixture aio) : IClassFixture<AioFixture>
{
    [Fact]
    public async Task Put_and_get_succeed_with_a_device_unmounted_and_after_it_returns()
    {
        var marker = Path.Combine(aio.DataDir, "d1", ".storagecloud-device");
        var saved = await File.ReadAllTextAsync(marker);
        File.Delete(marker);
        var names = new List<string>();
        var data = RandomNumberGenerator.GetBytes(256 * 1024);
        var work = Path.Combine(aio.Root, "up");
        Directory.CreateDirectory(work);
        for (var i = 0; i < 8; i++)
        {
            var name = $"f{i}.bin";
            names.Add(name);
            await File.WriteAllBytesAsync(Path.Combine(work, name), data);
        }
        var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", ["upload", "degraded", .. names], aio.SwiftEnv(), work);
        Assert.True(exit == 0, stdout + stderr);
        await Verify(names, data, "while d1 is unmounted");

        await File.WriteAllTextAsync(marker, saved);
        await Verify(names, data, "after d1 returned");
    }

    private async Task Verify(List<string> names, byte[] data, string when)
    {
        var down = Path.Combine(aio.Root, "down-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(down);
        var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", ["download", "degraded"], aio.SwiftEnv(), down);
        Assert.True(exit == 0, $"{when}: {stdout} {stderr}");
        foreach (var name in names) Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(down, name)));
    }
}

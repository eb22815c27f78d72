using System.Security.Cryptography;
using System.Text.RegularExpressions;
using StorageCloud.Storage.Tests;

namespace StorageCloud.Host.Tests;

/// <summary>
/// <c>storagecloud object upload|download</c> and <c>storagecloud image upload|download</c> as an operator runs them
/// with the appliance's openrc: a file larger than a segment goes up as a static large object and comes back the
/// same; plain uploads are checked against the store's ETag; an image the format checks refuse is reported killed
/// with exit code 1; a missing object leaves no file.
/// </summary>
public sealed class TransferCommandTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private static byte[] Random(int bytes)
    {
        var data = new byte[bytes];
        System.Random.Shared.NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Objects_go_up_in_segments_and_come_back_whole()
    {
        var rc = StorageCloudProcess.OpenRc(cloud.DataDir);
        using var temp = new TempDir();
        var dir = temp.Path;
        var big = Path.Combine(dir, "big.bin");
        var data = Random(5 << 20);
        await File.WriteAllBytesAsync(big, data);
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["object", "upload", "cli-box", big, "--name", "dir/big.bin", "--segment-size", "2"], rc);
        Assert.True(exit == 0, $"object upload exited {exit}: {stdout} {stderr}");
        Assert.Contains($"cli-box/dir/big.bin: {data.Length} bytes in 3 segments (cli-box_segments)", stdout);
        var back = Path.Combine(dir, "back.bin");
        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["object", "download", "cli-box", "dir/big.bin", "--to", back], rc);
        Assert.True(exit == 0, $"object download exited {exit}: {stdout} {stderr}");
        Assert.Equal(data, await File.ReadAllBytesAsync(back));
        Assert.False(File.Exists(back + ".part"));

        var small = Path.Combine(dir, "small.bin");
        var smallData = Random(100_000);
        await File.WriteAllBytesAsync(small, smallData);
        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["object", "upload", "cli-box", small], rc);
        Assert.True(exit == 0, $"object upload exited {exit}: {stdout} {stderr}");
        Assert.Contains($"cli-box/small.bin: 100000 bytes, etag {Convert.ToHexStringLower(MD5.HashData(smallData))}", stdout);

        var missing = Path.Combine(dir, "missing.bin");
        (exit, _, stderr) = await StorageCloudProcess.RunAsync(["object", "download", "cli-box", "no-such", "--to", missing], rc);
        Assert.Equal(1, exit);
        Assert.Contains("was not found", stderr);
        Assert.False(File.Exists(missing) || File.Exists(missing + ".part"));
    }

    [Fact]
    public async Task Images_go_up_and_come_back_and_a_refused_file_is_reported()
    {
        var rc = StorageCloudProcess.OpenRc(cloud.DataDir);
        using var temp = new TempDir();
        var dir = temp.Path;
        var file = Path.Combine(dir, "disk.raw");
        var data = Random(3 << 20);
        await File.WriteAllBytesAsync(file, data);
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["image", "upload", file, "--name", "cli-image"], rc);
        Assert.True(exit == 0, $"image upload exited {exit}: {stdout} {stderr}");
        var match = Regex.Match(stdout, $"image ([0-9a-f-]{{36}}): active, {data.Length} bytes, virtual size {data.Length}, sha512 ([0-9a-f]{{128}})");
        Assert.True(match.Success, stdout);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), match.Groups[2].Value);
        var back = Path.Combine(dir, "back.raw");
        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["image", "download", match.Groups[1].Value, "--to", back], rc);
        Assert.True(exit == 0, $"image download exited {exit}: {stdout} {stderr}");
        Assert.Equal(data, await File.ReadAllBytesAsync(back));

        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["image", "upload", file, "--name", "not-qcow2", "--disk-format", "qcow2"], rc);
        Assert.Equal(1, exit);
        Assert.Matches("image [0-9a-f-]{36}: killed", stdout);
        Assert.Contains("refused", stderr);

        // A volume from the image, the conversion followed by the volume service's image-conversions view.
        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["image", "to-volume", match.Groups[1].Value, "--size", "1", "--name", "from-cli"], rc);
        Assert.True(exit == 0, $"image to-volume exited {exit}: {stdout} {stderr}");
        Assert.Matches($"volume [0-9a-f-]{{36}}: available, 1 GiB from image {match.Groups[1].Value}", stdout);
        var (status, conversion) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.Admin.Project}/image-conversions/{match.Groups[1].Value}", cloud.Admin.Token);
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.False(conversion!["conversion"]!["converting"]!.GetValue<bool>());
        // Another project does not learn of the admin's private image.
        Assert.Equal(System.Net.HttpStatusCode.NotFound,
            (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/image-conversions/{match.Groups[1].Value}", cloud.A.Token)).Status);
        (exit, _, stderr) = await StorageCloudProcess.RunAsync(["image", "to-volume", Guid.NewGuid().ToString(), "--size", "1"], rc);
        Assert.Equal(1, exit);
        Assert.Contains("refused", stderr);
    }
}

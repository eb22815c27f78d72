using System.Security.Cryptography;

namespace StorageCloud.CompatTests;

/// <summary>Debian's `swift` CLI (python3-swiftclient), unchanged, against the all-in-one appliance.</summary>
public sealed class SwiftCliTests(AioFixture aio) : IClassFixture<AioFixture>
{
    [Fact]
    public async Task Stat_post_upload_list_download_copy_and_delete()
    {
        var stat = await aio.SwiftAsync("stat");
        Assert.Contains("Account: AUTH_test", stat);

        await aio.SwiftAsync("post", "-m", "Project:compat");
        Assert.Contains("Meta Project: compat", await aio.SwiftAsync("stat"));

        var work = Path.Combine(aio.Root, "work");
        Directory.CreateDirectory(Path.Combine(work, "docs", "sub"));
        await File.WriteAllTextAsync(Path.Combine(work, "docs", "a.txt"), "alpha");
        await File.WriteAllTextAsync(Path.Combine(work, "docs", "sub", "b.txt"), "bravo");
        var big = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(work, "big.bin"), big);

        await RunIn(work, "upload", "cli", "docs");
        await RunIn(work, "upload", "cli", "big.bin");
        Assert.Equal(["big.bin", "docs/a.txt", "docs/sub/b.txt"], Lines(await aio.SwiftAsync("list", "cli")));
        Assert.Equal(["docs/a.txt", "docs/sub/b.txt"], Lines(await aio.SwiftAsync("list", "cli", "--prefix", "docs/")));
        Assert.Equal(["big.bin", "docs/"], Lines(await aio.SwiftAsync("list", "cli", "--delimiter", "/")));
        Assert.Contains("cli", Lines(await aio.SwiftAsync("list")));
        var objectStat = await aio.SwiftAsync("stat", "cli", "big.bin");
        Assert.Contains("Content Length: 20971520", objectStat);
        Assert.Contains("ETag: " + Convert.ToHexStringLower(MD5.HashData(big)), objectStat);

        var down = Path.Combine(aio.Root, "down");
        Directory.CreateDirectory(down);
        await RunIn(down, "download", "cli");
        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(down, "big.bin")));
        Assert.Equal("bravo", await File.ReadAllTextAsync(Path.Combine(down, "docs", "sub", "b.txt")));

        await aio.SwiftAsync("copy", "cli", "docs/a.txt", "--destination", "/cli/copied.txt", "-m", "Copied:yes");
        var copied = await aio.SwiftAsync("stat", "cli", "copied.txt");
        Assert.Contains("Content Length: 5", copied);
        Assert.Contains("Meta Copied: yes", copied);

        await aio.SwiftAsync("delete", "cli", "docs/a.txt");
        Assert.DoesNotContain("docs/a.txt", Lines(await aio.SwiftAsync("list", "cli")));
        await aio.SwiftAsync("delete", "cli");
        var (exit, _, stderr) = await CliRunner.RunAsync("swift", ["stat", "cli"], aio.SwiftEnv(), aio.Root);
        Assert.NotEqual(0, exit);
        Assert.Contains("not found", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Public_container_is_readable_by_anonymous_curl()
    {
        var file = Path.Combine(aio.Root, "public.txt");
        await File.WriteAllTextAsync(file, "for everyone");
        await RunIn(aio.Root, "upload", "pub", "public.txt");
        var (before, _) = await aio.CurlAsync($"{aio.Url}/v1/AUTH_test/pub/public.txt");
        Assert.Equal(401, before);

        await aio.SwiftAsync("post", "-r", ".r:*,.rlistings", "pub");
        var (status, body) = await aio.CurlAsync($"{aio.Url}/v1/AUTH_test/pub/public.txt");
        Assert.Equal(200, status);
        Assert.Equal("for everyone", await File.ReadAllTextAsync(body));
        var (listStatus, listing) = await aio.CurlAsync($"{aio.Url}/v1/AUTH_test/pub");
        Assert.Equal(200, listStatus);
        Assert.Equal("public.txt\n", await File.ReadAllTextAsync(listing));
    }

    [Fact]
    public async Task Tempurl_made_by_the_cli_works_with_plain_curl()
    {
        var file = Path.Combine(aio.Root, "shared.bin");
        var data = RandomNumberGenerator.GetBytes(100_000);
        await File.WriteAllBytesAsync(file, data);
        await RunIn(aio.Root, "upload", "tmp", "shared.bin");
        await aio.SwiftAsync("post", "-m", "Temp-URL-Key:cli-secret");
        var path = (await aio.SwiftAsync("tempurl", "GET", "3600", "/v1/AUTH_test/tmp/shared.bin", "cli-secret")).Trim();
        Assert.StartsWith("/v1/AUTH_test/tmp/shared.bin?temp_url_sig=", path);
        var (status, body) = await aio.CurlAsync(aio.Url + path);
        Assert.Equal(200, status);
        Assert.Equal(data, await File.ReadAllBytesAsync(body));
        var (wrong, _) = await aio.CurlAsync(aio.Url + path.Replace("shared.bin?", "other.bin?", StringComparison.Ordinal));
        Assert.Equal(401, wrong);
    }

    private async Task RunIn(string directory, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", args, aio.SwiftEnv(), directory);
        Assert.True(exit == 0, $"swift {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

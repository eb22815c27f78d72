using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class BulkTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    private static byte[] Tar(bool gzip, params (string Name, string Text)[] files)
    {
        var buffer = new MemoryStream();
        using (Stream target = gzip ? new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true) : buffer)
        using (var writer = new TarWriter(target, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, text) in files)
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "somedir/"));
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task Bulk_delete_removes_objects_then_containers_and_reports_each()
    {
        var c = await fixture.NewContainerAsync();
        var full = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        var fullName = full[("/v1/AUTH_test/".Length)..];
        foreach (var o in new[] { "a", "b c", "d/e" })
            using (await Host.SendAsync(HttpMethod.Put, $"{c}/{Uri.EscapeDataString(o).Replace("%2F", "/")}", Token, new StringContent(o))) { }
        using (await Host.SendAsync(HttpMethod.Put, $"{full}/keep", Token, new StringContent("k"))) { }
        // The container is listed first but goes last, after its objects.
        var list = $"{name}\n{name}/a\n/{name}/b%20c\n{name}/d/e\n{name}/missing\n{fullName}\n";
        using var r = await Host.SendAsync(HttpMethod.Delete, "/v1/AUTH_test?bulk-delete", Token, new StringContent(list, Encoding.UTF8, "text/plain"), ("Accept", "application/json"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var result = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(4, result.GetProperty("Number Deleted").GetInt32());
        Assert.Equal(1, result.GetProperty("Number Not Found").GetInt32());
        Assert.Equal("400 Bad Request", result.GetProperty("Response Status").GetString());
        var error = result.GetProperty("Errors")[0];
        Assert.Equal(fullName, error[0].GetString());
        Assert.Equal("409 Conflict", error[1].GetString());
        using (var gone = await Host.SendAsync(HttpMethod.Head, c, Token)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        // Someone else's names are refused one by one, and reported.
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using var denied = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test?bulk-delete", other, new StringContent($"{fullName}/keep\n", Encoding.UTF8, "text/plain"));
        var text = await denied.Content.ReadAsStringAsync();
        Assert.Contains($"{fullName}/keep, 403 Forbidden", text);
        using (var still = await Host.SendAsync(HttpMethod.Head, full + "/keep", Token)) Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        using (var xml = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test?bulk-delete", Token, new StringContent($"{fullName}/nothing\n", Encoding.UTF8, "text/plain"), ("Accept", "application/xml")))
        {
            Assert.Equal("application/xml", xml.Content.Headers.ContentType!.MediaType);
            var body = await xml.Content.ReadAsStringAsync();
            Assert.Contains("<delete>", body);
            Assert.Contains("<number_not_found>1</number_not_found>", body);
            Assert.Contains("<response_status>200 OK</response_status>", body);
        }
        using var empty = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test?bulk-delete", Token, new StringContent("", Encoding.UTF8, "text/plain"));
        Assert.Contains("Response Body: Invalid bulk delete.", await empty.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Extract_archive_makes_containers_and_objects_from_tar_and_tar_gz()
    {
        var base1 = ClusterFixture.NewName("x");
        var tar = Tar(false, ($"{base1}/one.txt", "1"), ($"{base1}/dir/two.txt", "22"), ("toplevel.txt", "ignored"), ($"{base1}/../../up.txt", "odd"));
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test?extract-archive=tar", Token, new ByteArrayContent(tar)))
        {
            var text = await r.Content.ReadAsStringAsync();
            Assert.Contains("Number Files Created: 3", text);
            Assert.Contains("Response Status: 201 Created", text);
        }
        using (var listing = await Host.SendAsync(HttpMethod.Get, $"/v1/AUTH_test/{base1}", Token))
            Assert.Equal("../../up.txt\ndir/two.txt\none.txt\n", await listing.Content.ReadAsStringAsync());
        using (var two = await Host.SendAsync(HttpMethod.Get, $"/v1/AUTH_test/{base1}/dir/two.txt", Token))
        {
            Assert.Equal("22", await two.Content.ReadAsStringAsync());
            Assert.Equal("text/plain", two.Content.Headers.ContentType!.MediaType);
        }

        // Into a base container and prefix, gzipped, with metadata for every object.
        var c = await fixture.NewContainerAsync();
        using (var r = await Host.SendAsync(HttpMethod.Put, $"{c}/pre?extract-archive=tar.gz", Token, new ByteArrayContent(Tar(true, ("a.txt", "A"), ("b/c.txt", "C"))),
                   ("Accept", "application/json"), ("X-Object-Meta-Batch", "7")))
        {
            var result = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(2, result.GetProperty("Number Files Created").GetInt32());
        }
        using (var head = await Host.SendAsync(HttpMethod.Head, $"{c}/pre/b/c.txt", Token)) Assert.Equal("7", head.Headers.GetValues("X-Object-Meta-Batch").Single());

        using (var bad = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test?extract-archive=tar", Token, new ByteArrayContent(Encoding.ASCII.GetBytes(new string('g', 700)))))
        {
            var text = await bad.Content.ReadAsStringAsync();
            Assert.Contains("Response Status: 400 Bad Request", text);
            Assert.Contains("Invalid Tar File", text);
        }
        using (var zip = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test?extract-archive=zip", Token, new ByteArrayContent([1])))
            Assert.Equal(HttpStatusCode.BadRequest, zip.StatusCode);
    }

    /// <summary>bzip2 compresses with Python's own bz2 module (Debian's python3), so the decoder meets a real encoder.</summary>
    private static async Task<byte[]> Bzip2Async(byte[] data)
    {
        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", "import bz2,sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read(), 1))"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = new MemoryStream();
        var reading = process.StandardOutput.BaseStream.CopyToAsync(output);
        await process.StandardInput.BaseStream.WriteAsync(data);
        process.StandardInput.Close();
        await reading;
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return output.ToArray();
    }

    [Fact]
    public async Task Extract_archive_reads_tar_bz2_across_blocks_and_refuses_corrupt_data()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        // Over one 100 kB block of mixed content: runs (RLE), text and random bytes.
        var random = new Random(7);
        var noise = new byte[150_000];
        random.NextBytes(noise);
        var text = string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i} {new string('a', i % 7)}\n"));
        var tar = Tar(false, ($"{name}/text.txt", text), ($"{name}/runs.txt", new string('z', 70_000) + "end"), ($"{name}/noise.bin", Convert.ToBase64String(noise)));
        var bz2 = await Bzip2Async(tar);
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test?extract-archive=tar.bz2", Token, new ByteArrayContent(bz2)))
            Assert.Contains("Number Files Created: 3", await r.Content.ReadAsStringAsync());
        using (var t = await Host.SendAsync(HttpMethod.Get, $"{c}/text.txt", Token)) Assert.Equal(text, await t.Content.ReadAsStringAsync());
        using (var t = await Host.SendAsync(HttpMethod.Get, $"{c}/runs.txt", Token)) Assert.Equal(new string('z', 70_000) + "end", await t.Content.ReadAsStringAsync());
        using (var t = await Host.SendAsync(HttpMethod.Get, $"{c}/noise.bin", Token)) Assert.Equal(Convert.ToBase64String(noise), await t.Content.ReadAsStringAsync());

        var corrupt = (byte[])bz2.Clone();
        corrupt[corrupt.Length / 2] ^= 0x55;
        using var bad = await Host.SendAsync(HttpMethod.Put, $"{c}/again?extract-archive=tar.bz2", Token, new ByteArrayContent(corrupt));
        var answer = await bad.Content.ReadAsStringAsync();
        Assert.Contains("Response Status: 400 Bad Request", answer);
        Assert.Contains("Invalid Tar File", answer);
    }

    [Fact]
    public async Task Extraction_past_a_quota_reports_the_refused_files()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Meta-Quota-Count", "2"));
        var name = c[("/v1/AUTH_test/".Length)..];
        var tar = Tar(false, ($"{name}/1", "x"), ($"{name}/2", "x"), ($"{name}/3", "x"));
        using var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test?extract-archive=tar", Token, new ByteArrayContent(tar));
        var text = await r.Content.ReadAsStringAsync();
        Assert.Contains("Number Files Created: 2", text);
        Assert.Contains($"{name}/3, 413 Request Entity Too Large", text);
    }
}

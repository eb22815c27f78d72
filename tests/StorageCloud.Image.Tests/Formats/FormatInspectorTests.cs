using System.Buffers.Binary;
using System.Diagnostics;
using StorageCloud.Image.Formats;
using StorageCloud.Storage.Tests;

namespace StorageCloud.Image.Tests.Formats;

/// <summary>
/// The format inspector on real images made by Debian's qemu-img (always told the format with -f), and on the known
/// hostile images, each crafted here and naming only files inside the test's own temporary directory.
/// </summary>
public sealed class FormatInspectorTests : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static async Task QemuImgAsync(params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/qemu-img") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("qemu-img is not installed (deploy/test.sh installs qemu-utils)", e);
        }
        using (process)
        {
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"qemu-img {string.Join(' ', args)}: {error}");
        }
    }

    /// <summary>Creates an image with qemu-img create -f FORMAT [options] and returns its path.</summary>
    private async Task<string> CreateAsync(string name, string format, long size, params string[] options)
    {
        var path = _dir.Sub(name);
        string[] args = ["create", "-f", format, .. options, path];
        await QemuImgAsync(size > 0 ? [.. args, size.ToString(System.Globalization.CultureInfo.InvariantCulture)] : args);
        return path;
    }

    /// <summary>Streams the file through an inspector in uneven pieces, as an upload arrives.</summary>
    private static InspectedImage Inspect(string path)
    {
        using var inspector = new FormatInspector();
        var data = File.ReadAllBytes(path);
        for (var at = 0; at < data.Length;)
        {
            var piece = Math.Min(data.Length - at, 1 + (int)((long)at * 7919 % 65521));
            inspector.Write(data.AsSpan(at, piece));
            at += piece;
        }
        return inspector.Inspect();
    }

    [Theory]
    [InlineData("qcow2", "qcow2", new string[0])]
    [InlineData("qcow2-v2", "qcow2", new[] { "-o", "compat=0.10" })]
    [InlineData("vmdk-sparse", "vmdk", new[] { "-o", "subformat=monolithicSparse" })]
    [InlineData("vmdk-stream", "vmdk", new[] { "-o", "subformat=streamOptimized" })]
    [InlineData("vhd-dynamic", "vpc", new[] { "-o", "subformat=dynamic,force_size=on" })]
    [InlineData("vhd-fixed", "vpc", new[] { "-o", "subformat=fixed,force_size=on" })]
    [InlineData("vhdx", "vhdx", new string[0])]
    [InlineData("vdi", "vdi", new string[0])]
    public async Task Images_qemu_makes_are_recognised_with_their_virtual_size(string name, string qemuFormat, string[] options)
    {
        var path = await CreateAsync(name, qemuFormat, 64 * MiB, options);
        var found = Inspect(path);
        Assert.Null(found.Problem);
        Assert.Equal(qemuFormat == "vpc" ? "vhd" : qemuFormat, found.Format);
        Assert.Equal(64 * MiB, found.VirtualSize);
    }

    [Fact]
    public void Raw_data_and_an_iso_are_told_apart()
    {
        var raw = _dir.Sub("raw");
        var bytes = new byte[3 * MiB];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(raw, bytes);
        Assert.Equal(new InspectedImage("raw", 3 * MiB, null), Inspect(raw));

        // An ISO 9660 primary volume descriptor at sector 16: 1000 blocks of 2048 bytes.
        var iso = new byte[1000 * 2048];
        iso[0x8000] = 1;
        "CD001"u8.CopyTo(iso.AsSpan(0x8001));
        BinaryPrimitives.WriteUInt32LittleEndian(iso.AsSpan(0x8050), 1000);
        BinaryPrimitives.WriteUInt16LittleEndian(iso.AsSpan(0x8080), 2048);
        File.WriteAllBytes(_dir.Sub("disc.iso"), iso);
        Assert.Equal(new InspectedImage("iso", 1000 * 2048, null), Inspect(_dir.Sub("disc.iso")));
    }

    [Fact]
    public async Task A_qcow2_with_a_backing_file_or_an_external_data_file_is_refused()
    {
        var backing = await CreateAsync("base.raw", "raw", 16 * MiB);
        var withBacking = await CreateAsync("backed.qcow2", "qcow2", 0, "-b", backing, "-F", "raw");
        Assert.Contains("backing file", Inspect(withBacking).Problem);

        var withDataFile = await CreateAsync("data-file.qcow2", "qcow2", 16 * MiB, "-o", "data_file=" + _dir.Sub("data.raw"));
        Assert.Contains("external data file", Inspect(withDataFile).Problem);
    }

    [Fact]
    public async Task A_qcow2_with_feature_bits_it_cannot_vouch_for_is_refused()
    {
        var path = await CreateAsync("features.qcow2", "qcow2", 16 * MiB);
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(72), 1UL << 20);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("unknown incompatible feature bits", Inspect(path).Problem);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(72), 1UL << 1);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("corrupt", Inspect(path).Problem);
    }

    [Theory]
    [InlineData("monolithicFlat")]
    [InlineData("twoGbMaxExtentSparse")]
    [InlineData("twoGbMaxExtentFlat")]
    public async Task A_vmdk_that_names_other_files_is_refused(string subformat)
    {
        var path = await CreateAsync("disk.vmdk", "vmdk", 16 * MiB, "-o", "subformat=" + subformat);
        var found = Inspect(path);
        Assert.Equal("vmdk", found.Format);
        Assert.NotNull(found.Problem);
    }

    [Fact]
    public async Task A_sparse_vmdk_whose_descriptor_adds_an_extent_is_refused()
    {
        var path = await CreateAsync("sparse.vmdk", "vmdk", 16 * MiB, "-o", "subformat=monolithicSparse");
        var bytes = File.ReadAllBytes(path);
        var descriptorAt = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(28)) * 512;
        var text = System.Text.Encoding.ASCII.GetString(bytes, descriptorAt, 1024);
        var extent = text.IndexOf("RW ", StringComparison.Ordinal);
        var end = text.IndexOf('\n', extent);
        var added = System.Text.Encoding.ASCII.GetBytes($"\nRW 2048 FLAT \"{_dir.Sub("host-file")}\" 0");
        added.CopyTo(bytes, descriptorAt + end);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("extent", Inspect(path).Problem);
    }

    [Fact]
    public async Task Data_that_two_formats_claim_is_refused_as_a_polyglot()
    {
        var path = await CreateAsync("polyglot.qcow2", "qcow2", 16 * MiB);
        using (var file = File.OpenWrite(path))
        {
            file.Seek(0x8000, SeekOrigin.Begin);
            file.Write([1, .. "CD001"u8]);
        }
        var found = Inspect(path);
        Assert.Contains("more than one format", found.Problem);
        Assert.Contains("qcow2", found.Problem);
        Assert.Contains("iso", found.Problem);
    }
}

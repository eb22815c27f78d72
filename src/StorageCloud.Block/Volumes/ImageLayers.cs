using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Devices;
using StorageCloud.Common.IO;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Block.Volumes;

/// <summary>What the image service says of an image a volume is made from.</summary>
public sealed record ImageInfo(string Id, string? Name, string Status, string DiskFormat, string ContainerFormat, long Size, long VirtualSize,
    string Checksum, long MinDisk, long MinRam);

/// <summary>Why a volume cannot be made from an image (Cinder answers these with 400).</summary>
public sealed class ImageUnusableException(string message) : Exception(message);

/// <summary>
/// Images as disks: each image is converted once to raw chunks in a layer of its own (raw data streamed in; qcow2,
/// vmdk, vhd, vhdx and vdi through <c>qemu-img convert</c>, always told the format), frozen and kept per image and
/// checksum; every volume from the image is a new empty layer above it, so it costs no copy and reads through until
/// it writes. The image service is asked with the caller's own token, so a volume is only ever made from an image
/// the caller may read.
/// </summary>
public sealed class ImageLayers(VolumeManager manager, VolumeDevices devices, BlockSettings settings, HttpClient http, ILogger<ImageLayers> logger) : IDaemonSource
{
    private const int Block = 1 << 20;

    /// <summary>qemu-img's limits: 2 GiB of address space (Nova allows 1 GiB for qemu-img info; convert keeps more buffers) and 10 minutes of CPU.</summary>
    private const long QemuImgAddressSpace = 2L << 30;
    private const int QemuImgCpuSeconds = 600;
    private static readonly HashSet<string> RawFormats = ["raw", "iso", "ami", "ari", "aki"];
    private static readonly HashSet<string> ConvertedFormats = ["qcow2", "vmdk", "vhd", "vhdx", "vdi"];
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _filling = new();

    private readonly ConcurrentDictionary<string, double> _converting = new(StringComparer.Ordinal);

    /// <summary>How far the conversion of an image under way is (0 to 1), or null when none is.</summary>
    public double? ConversionProgress(string imageId) => _converting.TryGetValue(imageId, out var done) ? done : null;

    /// <summary>The image as the image service shows it to the caller's token; <see cref="ImageUnusableException"/> when it cannot be used.</summary>
    public async Task<ImageInfo> DescribeAsync(string imageId, string token, CancellationToken cancellationToken)
    {
        var baseUrl = settings.ImageUrl ?? throw new ImageUnusableException("there is no image service to read images from (Block:ImageUrl).");
        if (!Guid.TryParse(imageId, out var id)) throw new ImageUnusableException($"Invalid image identifier or unable to access requested image ({imageId}).");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/images/{id:D}");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
            throw new ImageUnusableException($"Invalid image identifier or unable to access requested image ({imageId}).");
        response.EnsureSuccessStatusCode();
        var image = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject ?? [];
        var info = new ImageInfo(id.ToString("D"), image["name"]?.GetValue<string>(), image["status"]?.GetValue<string>() ?? "",
            image["disk_format"]?.GetValue<string>() ?? "", image["container_format"]?.GetValue<string>() ?? "", image["size"]?.GetValue<long>() ?? 0,
            image["virtual_size"]?.GetValue<long>() ?? 0, image["checksum"]?.GetValue<string>() ?? "", image["min_disk"]?.GetValue<long>() ?? 0,
            image["min_ram"]?.GetValue<long>() ?? 0);
        if (info.Status != "active") throw new ImageUnusableException($"Image {info.Id} is not active (it is {info.Status}).");
        if (info.ContainerFormat != "bare" || !(RawFormats.Contains(info.DiskFormat) || ConvertedFormats.Contains(info.DiskFormat)))
            throw new ImageUnusableException($"Image {info.Id} ({info.ContainerFormat}/{info.DiskFormat}) is not a bare disk image a volume can be made from.");
        return info;
    }

    /// <summary>The frozen layer holding the image's raw data, converted now unless an earlier volume from it did.</summary>
    public async Task<string> LayerOfAsync(ImageInfo image, string token, CancellationToken cancellationToken)
    {
        // About to convert (and take space): first forget what has been idle too long. Not under this image's gate,
        // which the expirer takes in its turn.
        if (await manager.Store.GetAsync<ImageLayerRow>(image.Id) is not { } known || known.Checksum != image.Checksum)
            await ExpireAsync(cancellationToken);
        var gate = _filling.GetOrAdd(image.Id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (await manager.Store.GetAsync<ImageLayerRow>(image.Id) is { } cached && cached.Checksum == image.Checksum)
            {
                cached.UsedAt = VolumeManager.Now();
                await manager.Store.UpdateAsync(cached);
                return cached.LayerId;
            }
            var (work, layer) = await ConvertAsync(image, token, cancellationToken);
            var row = new ImageLayerRow { Id = image.Id, Checksum = image.Checksum, LayerId = layer, Size = image.VirtualSize, CreatedAt = VolumeManager.Now() };
            // An older conversion of other data under this id goes; the collector frees its layer once no volume reads it.
            await manager.Store.DeleteAsync<ImageLayerRow>(image.Id);
            await manager.Store.InsertAsync(row);
            // Only now may the work volume go: until the row above names the frozen layer, the collector would free it with the volume.
            await manager.DeleteAsync(work);
            return layer;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The image-cache-expirer's pass: forgets the converted layers of images no volume was made from for
    /// Block:ImageCacheIdleSeconds (a deleted image's among them), then collects: a layer's chunks go once no volume
    /// or snapshot reads through it. The next volume from such an image converts it again. Returns the layers forgotten.
    /// </summary>
    public async Task<int> ExpireAsync(CancellationToken cancellationToken)
    {
        var cutoff = DateTimeOffset.UtcNow - settings.ImageCacheIdle;
        var forgotten = 0;
        foreach (var row in await manager.Store.ListAsync<ImageLayerRow>())
        {
            var last = DateTimeOffset.Parse(row.UsedAt.Length > 0 ? row.UsedAt : row.CreatedAt, CultureInfo.InvariantCulture);
            if (last > cutoff) continue;
            var gate = _filling.GetOrAdd(row.Id, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken);
            try
            {
                // Checked again under the image's gate: a volume may have been made from it meanwhile.
                if (await manager.Store.GetAsync<ImageLayerRow>(row.Id) is not { } current || current.UsedAt != row.UsedAt) continue;
                await manager.Store.DeleteAsync<ImageLayerRow>(row.Id);
                forgotten++;
                logger.LogInformation("image {Image}: its converted layer {Layer} was idle since {Since} and is forgotten", row.Id, row.LayerId, last);
            }
            finally
            {
                gate.Release();
            }
        }
        if (forgotten > 0) await manager.CollectAsync(cancellationToken);
        return forgotten;
    }

    /// <inheritdoc />
    public IEnumerable<ServiceDaemon> Daemons() => [new ServiceDaemon("image-cache-expirer", 600, false, ExpireAsync)];

    /// <summary>Writes the image's raw data into a work volume and freezes it; returns the volume (for the caller to drop) and the frozen layer.</summary>
    private async Task<(VolumeRow Work, string Layer)> ConvertAsync(ImageInfo image, string token, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        _converting[image.Id] = 0;
        try
        {
            return await ConvertTrackedAsync(image, token, started, cancellationToken);
        }
        finally
        {
            _converting.TryRemove(image.Id, out _);
        }
    }

    private async Task<(VolumeRow Work, string Layer)> ConvertTrackedAsync(ImageInfo image, string token, long started, CancellationToken cancellationToken)
    {
        void Report(double done) => _converting[image.Id] = Math.Clamp(done, 0, 1);
        var work = await manager.CreateAsync(new VolumeRow
        {
            ProjectId = "",
            Name = $"image {image.Id}",
            Size = (image.VirtualSize + 511) / 512 * 512,
            Status = "downloading",
        }, null);
        try
        {
            await using (var handle = await devices.AcquireAsync(Guid.Parse(work.Id), cancellationToken)
                ?? throw new ImageUnusableException($"the work volume for image {image.Id} vanished"))
            {
                if (RawFormats.Contains(image.DiskFormat))
                {
                    await using var data = await OpenDataAsync(image, token, cancellationToken);
                    long copied = 0;
                    await using var counted = new ProgressReadStream(data, long.MaxValue, n => Report((copied += n) / (double)Math.Max(image.Size, 1)));
                    await CopyAsync(counted, handle.Device, cancellationToken);
                }
                else
                {
                    await ConvertThroughQemuAsync(image, token, handle.Device, Report, cancellationToken);
                }
                await handle.Device.FlushAsync(cancellationToken);
            }
            var layer = await manager.FreezeAsync(work, cancellationToken);
            logger.LogInformation("image {Image} ({Format}, {Size} bytes) converted to layer {Layer} in {Seconds:F1} s", image.Id, image.DiskFormat,
                image.VirtualSize, layer, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return (work, layer);
        }
        catch
        {
            await manager.DeleteAsync(work);
            throw;
        }
    }

    private async Task<Stream> OpenDataAsync(ImageInfo image, string token, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{settings.ImageUrl}/v2/images/{image.Id}/file");
        request.Headers.Add("X-Auth-Token", token);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new ImageUnusableException($"the image service answered {(int)response.StatusCode} for the data of image {image.Id}");
        }
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    /// <summary>Copies raw data into the device a block at a time; all-zero blocks are left as holes (they read as zeros).</summary>
    private static async Task CopyAsync(Stream source, VolumeDevice device, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Block);
        try
        {
            for (long offset = 0; ; )
            {
                var filled = 0;
                while (filled < Block)
                {
                    var read = await source.ReadAsync(buffer.AsMemory(filled, Block - filled), cancellationToken);
                    if (read == 0) break;
                    filled += read;
                }
                if (filled == 0) return;
                var length = (int)Math.Min(filled, device.Size - offset);
                if (length <= 0) return;
                if (buffer.AsSpan(0, length).ContainsAnyExcept((byte)0)) await device.WriteAsync(offset, buffer.AsMemory(0, length), false, cancellationToken);
                offset += filled;
                if (filled < Block) return;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Downloads the image to a work file, has qemu-img (told the format) write it out as sparse raw, and copies that.</summary>
    private async Task ConvertThroughQemuAsync(ImageInfo image, string token, VolumeDevice device, Action<double> report, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(settings.WorkDir);
        var source = Path.Combine(settings.WorkDir, $"{image.Id}.{Guid.NewGuid():N}.{image.DiskFormat}");
        var raw = source + ".raw";
        try
        {
            // Progress: the download is the first 40 %, qemu-img's conversion (its -p) the next 40 %, the copy the rest.
            long downloaded = 0;
            await using (var data = await OpenDataAsync(image, token, cancellationToken))
            await using (var download = new ProgressReadStream(data, long.MaxValue, n => report(0.4 * (downloaded += n) / Math.Max(image.Size, 1))))
            await using (var file = new FileStream(source, FileMode.CreateNew, FileAccess.Write, FileShare.None, Block, FileOptions.Asynchronous))
                await download.CopyToAsync(file, Block, cancellationToken);
            // The source format is always named (-f): qemu must never guess what hostile data is.
            var format = image.DiskFormat == "vhd" ? "vpc" : image.DiskFormat;
            // Under prlimit, as Nova and Glance run qemu-img on image data: a crafted image cannot make it take the
            // machine's memory (address space) or a core for ever (CPU seconds).
            var info = new ProcessStartInfo("prlimit",
                [$"--as={QemuImgAddressSpace}", $"--cpu={QemuImgCpuSeconds}", "--", "qemu-img", "convert", "-f", format, "-p", "-O", "raw", source, raw])
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            Process process;
            try
            {
                process = Process.Start(info) ?? throw new ImageUnusableException("qemu-img could not be started");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new ImageUnusableException($"converting {image.DiskFormat} images needs prlimit (util-linux) and qemu-img (Debian's qemu-utils): {e.Message}");
            }
            using (process)
            {
                var error = process.StandardError.ReadToEndAsync(cancellationToken);
                await ReadQemuProgressAsync(process.StandardOutput, done => report(0.4 + 0.4 * done), cancellationToken);
                await process.WaitForExitAsync(cancellationToken);
                if (process.ExitCode != 0) throw new ImageUnusableException($"image {image.Id} could not be converted from {image.DiskFormat}: {(await error).Trim()}");
            }
            await using var converted = new FileStream(raw, FileMode.Open, FileAccess.Read, FileShare.Read, Block, FileOptions.Asynchronous | FileOptions.SequentialScan);
            long copied = 0;
            var total = Math.Max(converted.Length, 1);
            await using var counted = new ProgressReadStream(converted, long.MaxValue, n => report(0.8 + 0.2 * (copied += n) / total));
            await CopyAsync(counted, device, cancellationToken);
        }
        finally
        {
            File.Delete(source);
            File.Delete(raw);
        }
    }

    /// <summary>Follows qemu-img's -p output ("    (12.34/100%)" lines ended by CR) to its end, reporting 0 to 1.</summary>
    private static async Task ReadQemuProgressAsync(StreamReader output, Action<double> report, CancellationToken cancellationToken)
    {
        var buffer = new char[256];
        var line = new System.Text.StringBuilder();
        for (int read; (read = await output.ReadAsync(buffer, cancellationToken)) > 0;)
        {
            foreach (var c in buffer.AsSpan(0, read))
            {
                if (c is not ('\r' or '\n'))
                {
                    if (line.Length < 128) line.Append(c);
                    continue;
                }
                var text = line.ToString();
                line.Clear();
                var open = text.IndexOf('(');
                var slash = text.IndexOf("/100%", StringComparison.Ordinal);
                if (open >= 0 && slash > open
                    && double.TryParse(text.AsSpan(open + 1, slash - open - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
                    report(percent / 100);
            }
        }
    }

    /// <summary>
    /// A volume to an image (os-volume_upload_image): an image is made in the image service with the caller's token and
    /// the volume's raw data streamed into it from the device (read through its layers, holes as zeros). Returns the
    /// image's id; the image service inspects the data as it inspects any upload.
    /// </summary>
    public async Task<string> UploadAsync(VolumeRow volume, string name, string visibility, bool isProtected, string token, CancellationToken cancellationToken)
    {
        var baseUrl = settings.ImageUrl ?? throw new ImageUnusableException("there is no image service to upload to (Block:ImageUrl).");
        var create = new JsonObject
        {
            ["name"] = name, ["disk_format"] = "raw", ["container_format"] = "bare", ["visibility"] = visibility, ["protected"] = isProtected,
        };
        string id;
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/v2/images") { Content = new StringContent(create.ToJsonString(), System.Text.Encoding.UTF8, "application/json") })
        {
            request.Headers.Add("X-Auth-Token", token);
            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode) throw new ImageUnusableException($"the image service refused the new image ({(int)response.StatusCode}): {text.Trim()}");
            id = (JsonNode.Parse(text) as JsonObject)?["id"]?.GetValue<string>() ?? throw new ImageUnusableException("the image service answered no image id");
        }
        await UploadIntoAsync(volume, id, token, cancellationToken);
        return id;
    }

    /// <summary>
    /// Streams a volume's raw data into an image the caller already made (queued), as createImage of a server fills
    /// the image Nova made for it from the server's root disk.
    /// </summary>
    public async Task UploadIntoAsync(VolumeRow volume, string imageId, string token, CancellationToken cancellationToken)
    {
        var baseUrl = settings.ImageUrl ?? throw new ImageUnusableException("there is no image service to upload to (Block:ImageUrl).");
        var id = Guid.TryParse(imageId, out var guid) ? guid.ToString("D") : throw new ImageUnusableException($"{imageId} is not an image id");
        await using var handle = await devices.AcquireAsync(Guid.Parse(volume.Id), cancellationToken)
            ?? throw new ImageUnusableException($"volume {volume.Id} does not exist");
        using (var upload = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/v2/images/{id}/file") { Content = new StreamContent(new DeviceReadStream(handle.Device), Block) })
        {
            upload.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            upload.Content.Headers.ContentLength = handle.Device.Size;
            upload.Headers.Add("X-Auth-Token", token);
            using var response = await http.SendAsync(upload, cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new ImageUnusableException($"the image service refused the data of volume {volume.Id} ({(int)response.StatusCode}): {(await response.Content.ReadAsStringAsync(cancellationToken)).Trim()}");
        }
        logger.LogInformation("volume {Volume} uploaded to image {Image}", volume.Id, id);
    }

    /// <summary>A device read from start to end, as a stream.</summary>
    private sealed class DeviceReadStream(VolumeDevice device) : StorageCloud.Common.IO.ReadOnlyStream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var length = (int)Math.Min(Math.Min(buffer.Length, Block), device.Size - _position);
            if (length <= 0) return 0;
            await device.ReadAsync(_position, buffer[..length], cancellationToken);
            _position += length;
            return length;
        }
    }
}

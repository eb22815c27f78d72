using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Common.IO;

namespace StorageCloud.Host.Operator;

/// <summary>
/// <c>storagecloud image upload|download</c>: image files to and from the image service with a progress bar. An
/// upload creates the image, streams the file, and reports the status the image service's format checks leave it
/// in (active, or killed with the reason); a download is checked against the image's MD5 before it is kept.
/// </summary>
public static class ImageCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build()
    {
        var command = new Command("image", "Upload and download images with a progress bar (uses the OS_* variables of an openrc).");
        var url = new Option<string?>("--url") { Description = "The image service's URL (default: the catalog's image endpoint).", Recursive = true };
        command.Options.Add(url);

        var file = new Argument<string>("file") { Description = "The image file." };
        var name = new Option<string?>("--name") { Description = "The image's name (default: the file's name)." };
        var diskFormat = new Option<string>("--disk-format") { Description = "raw, qcow2, vmdk, vhd, vhdx, vdi or iso (default raw).", DefaultValueFactory = _ => "raw" };
        var containerFormat = new Option<string>("--container-format") { Description = "Default bare.", DefaultValueFactory = _ => "bare" };
        var visibility = new Option<string>("--visibility") { Description = "private, shared, community or public (default private).", DefaultValueFactory = _ => "private" };
        var upload = new Command("upload", "Create an image from a file.") { file };
        foreach (var option in new Option[] { name, diskFormat, containerFormat, visibility }) upload.Options.Add(option);
        upload.SetAction((r, ct) => ObjectCommand.RunAsync(async () =>
        {
            var (http, glance) = await GlanceAsync(r.GetValue(url));
            using (http)
            {
                var path = r.GetValue(file)!;
                var record = new JsonObject
                {
                    ["name"] = r.GetValue(name) ?? Path.GetFileName(path), ["disk_format"] = r.GetValue(diskFormat), ["container_format"] = r.GetValue(containerFormat),
                    ["visibility"] = r.GetValue(visibility),
                };
                await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                using var created = await http.PostAsync($"{glance}/v2/images", new StringContent(record.ToJsonString(), Encoding.UTF8, "application/json"), ct);
                if (!created.IsSuccessStatusCode) throw new InvalidOperationException($"the image was refused: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync(ct)}");
                var id = JsonNode.Parse(await created.Content.ReadAsStringAsync(ct))!["id"]!.GetValue<string>();
                var length = input.Length;
                var refusal = await TransferProgress.RunAsync($"upload {record["name"]}", length, async progress =>
                {
                    using var put = new HttpRequestMessage(HttpMethod.Put, $"{glance}/v2/images/{id}/file") { Content = new StreamContent(new ProgressReadStream(input, length, progress), 1 << 16) };
                    put.Content.Headers.ContentLength = length;
                    put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    using var stored = await http.SendAsync(put, ct);
                    return stored.IsSuccessStatusCode ? null : $"{(int)stored.StatusCode} {await stored.Content.ReadAsStringAsync(ct)}";
                });
                using var shown = await http.GetAsync($"{glance}/v2/images/{id}", ct);
                var image = JsonNode.Parse(await shown.Content.ReadAsStringAsync(ct))!;
                Console.Out.WriteLine($"image {id}: {image["status"]}, {image["size"]} bytes, virtual size {image["virtual_size"]}, {image["os_hash_algo"]} {image["os_hash_value"]}");
                if (refusal is null) return 0;
                Console.Error.WriteLine($"storagecloud image: the image service refused the file: {refusal}");
                return 1;
            }
        }, "image"));

        var id = new Argument<string>("id") { Description = "The image's id." };
        var to = new Option<string>("--to") { Description = "The file to write.", Required = true };
        var download = new Command("download", "Download an image's data.") { id };
        download.Options.Add(to);
        download.SetAction((r, ct) => ObjectCommand.RunAsync(async () =>
        {
            var (http, glance) = await GlanceAsync(r.GetValue(url));
            using (http) return await ObjectCommand.DownloadAsync(http, $"{glance}/v2/images/{Uri.EscapeDataString(r.GetValue(id)!)}/file", r.GetValue(to)!, ct);
        }, "image"));
        var image = new Argument<string>("image") { Description = "The image's id." };
        var sizeGiB = new Option<int>("--size") { Description = "The volume's size in GiB.", Required = true };
        var volumeName = new Option<string?>("--name") { Description = "The volume's name." };
        var toVolume = new Command("to-volume", "Make a volume from an image, following the image's conversion to raw chunks (the first volume from an image converts it; later ones are instant clones).") { image };
        toVolume.Options.Add(sizeGiB);
        toVolume.Options.Add(volumeName);
        toVolume.SetAction((r, ct) => ObjectCommand.RunAsync(() => ToVolumeAsync(r.GetValue(image)!, r.GetValue(sizeGiB), r.GetValue(volumeName), ct), "image"));
        command.Subcommands.Add(upload);
        command.Subcommands.Add(download);
        command.Subcommands.Add(toVolume);
        return command;
    }

    /// <summary>
    /// Creates the volume (the volume service answers once the image is converted) while a progress bar follows the
    /// conversion through the volume service's image-conversions view.
    /// </summary>
    private static async Task<int> ToVolumeAsync(string image, int size, string? name, CancellationToken ct)
    {
        var (token, answer) = await OpenRc.LoginAsync();
        var cinder = (OpenRc.Endpoint(answer, "volumev3") ?? throw new InvalidOperationException("the catalog has no volumev3 endpoint")).TrimEnd('/');
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        var body = new JsonObject { ["volume"] = new JsonObject { ["size"] = size, ["imageRef"] = image, ["name"] = name } };
        var created = http.PostAsync($"{cinder}/volumes", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
        await TransferProgress.RunPercentAsync($"convert image {image}", async report =>
        {
            while (!created.IsCompleted)
            {
                await Task.WhenAny(created, Task.Delay(500, ct));
                using var progress = await http.GetAsync($"{cinder}/image-conversions/{Uri.EscapeDataString(image)}", ct);
                if (progress.IsSuccessStatusCode && JsonNode.Parse(await progress.Content.ReadAsStringAsync(ct))?["conversion"] is { } conversion
                    && conversion["converting"]!.GetValue<bool>())
                    report(conversion["percent"]!.GetValue<int>());
            }
        });
        using var response = await created;
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"the volume service refused the volume: {(int)response.StatusCode} {text}");
        var volume = JsonNode.Parse(text)!["volume"]!;
        Console.Out.WriteLine($"volume {volume["id"]}: {volume["status"]}, {volume["size"]} GiB from image {image}");
        return 0;
    }

    private static async Task<(HttpClient Http, string Glance)> GlanceAsync(string? url)
    {
        var (token, answer) = await OpenRc.LoginAsync();
        var glance = url ?? OpenRc.Endpoint(answer, "image") ?? throw new InvalidOperationException("the catalog has no image endpoint; give --url");
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        return (http, glance.TrimEnd('/'));
    }
}

using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using StorageCloud.Common.IO;

namespace StorageCloud.Host.Operator;

/// <summary>
/// <c>storagecloud object upload|download</c>: large files to and from the object store through the Swift API with a
/// progress bar. Uploads larger than a segment go as a static large object (segments in CONTAINER_segments, then
/// the manifest); each segment's MD5 is checked against the ETag the store answers. Downloads land in a temporary
/// file renamed into place only when whole and matching the ETag.
/// </summary>
public static class ObjectCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build()
    {
        var command = new Command("object", "Upload and download (large) objects with a progress bar (uses the OS_* variables of an openrc).");
        var url = new Option<string?>("--url") { Description = "The account's Swift URL (default: the catalog's object-store endpoint).", Recursive = true };
        command.Options.Add(url);
        var container = new Argument<string>("container") { Description = "The container." };

        var file = new Argument<string>("file") { Description = "The file to upload." };
        var name = new Option<string?>("--name") { Description = "The object's name (default: the file's name)." };
        var segment = new Option<int>("--segment-size") { Description = "MiB per segment; larger files go as a static large object (default 1024).", DefaultValueFactory = _ => 1024 };
        var upload = new Command("upload", "Upload a file (the container is made when missing).") { container, file };
        upload.Options.Add(name);
        upload.Options.Add(segment);
        upload.SetAction((r, ct) => RunAsync(async () =>
        {
            var size = r.GetValue(segment);
            if (size < 1) throw new InvalidOperationException("--segment-size is at least 1 (MiB)");
            var (http, account) = await SwiftAsync(r.GetValue(url));
            using (http)
                return await UploadAsync(http, account, r.GetValue(container)!, r.GetValue(file)!, r.GetValue(name) ?? Path.GetFileName(r.GetValue(file)!), size * (1L << 20), ct);
        }));

        var objectName = new Argument<string>("name") { Description = "The object's name." };
        var to = new Option<string?>("--to") { Description = "The file to write (default: the object's last path segment, here)." };
        var download = new Command("download", "Download an object.") { container, objectName };
        download.Options.Add(to);
        download.SetAction((r, ct) => RunAsync(async () =>
        {
            var (http, account) = await SwiftAsync(r.GetValue(url));
            using (http)
                return await DownloadAsync(http, $"{account}/{Escape(r.GetValue(container)!)}/{EscapePath(r.GetValue(objectName)!)}",
                    r.GetValue(to) ?? Path.GetFileName(r.GetValue(objectName)!), ct);
        }));
        command.Subcommands.Add(upload);
        command.Subcommands.Add(download);
        return command;
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static string EscapePath(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private static async Task<int> UploadAsync(HttpClient http, string account, string container, string path, string name, long segmentBytes, CancellationToken ct)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var length = input.Length;
        await EnsureContainerAsync(http, $"{account}/{Escape(container)}", ct);
        var segments = length > segmentBytes ? (int)((length + segmentBytes - 1) / segmentBytes) : 1;
        var manifest = new JsonArray();
        var segmentContainer = container + "_segments";
        if (segments > 1) await EnsureContainerAsync(http, $"{account}/{Escape(segmentContainer)}", ct);
        var etag = await TransferProgress.RunAsync($"upload {name}", length, async progress =>
        {
            string last = "";
            for (var i = 0; i < segments; i++)
            {
                var bytes = Math.Min(segmentBytes, length - i * segmentBytes);
                var target = segments == 1
                    ? $"{account}/{Escape(container)}/{EscapePath(name)}"
                    : $"{account}/{Escape(segmentContainer)}/{EscapePath($"{name}/{length}/{segmentBytes}/{i:D8}")}";
                last = await PutAsync(http, target, new ProgressReadStream(input, bytes, progress, md5: true), bytes, ct);
                if (segments > 1)
                    manifest.Add(new JsonObject { ["path"] = $"/{segmentContainer}/{name}/{length}/{segmentBytes}/{i:D8}", ["etag"] = last, ["size_bytes"] = bytes });
            }
            return last;
        });
        if (segments > 1)
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{account}/{Escape(container)}/{EscapePath(name)}?multipart-manifest=put")
            {
                Content = new StringContent(manifest.ToJsonString()),
            };
            using var answer = await http.SendAsync(put, ct);
            if (!answer.IsSuccessStatusCode) throw new InvalidOperationException($"the manifest was refused: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(ct)}");
        }
        Console.Out.WriteLine(segments > 1
            ? $"{container}/{name}: {length} bytes in {segments} segments ({segmentContainer})"
            : $"{container}/{name}: {length} bytes, etag {etag}");
        return 0;
    }

    /// <summary>PUTs one stream; returns its MD5 once the store's ETag matched it.</summary>
    private static async Task<string> PutAsync(HttpClient http, string url, ProgressReadStream body, long bytes, CancellationToken ct)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StreamContent(body, 1 << 16) };
        put.Content.Headers.ContentLength = bytes;
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var answer = await http.SendAsync(put, ct);
        if (!answer.IsSuccessStatusCode) throw new InvalidOperationException($"PUT {new Uri(url).AbsolutePath} answered {(int)answer.StatusCode}");
        var sent = body.Md5Hex();
        var stored = ETagOf(answer);
        if (stored != sent) throw new InvalidOperationException($"PUT {new Uri(url).AbsolutePath}: the store's ETag {stored} is not the MD5 of what was sent ({sent})");
        return sent;
    }

    /// <summary>The ETag as sent: Swift sends it unquoted, which the typed header does not parse.</summary>
    private static string? ETagOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("ETag", out var values) ? values.First().Trim('"') : null;

    private static async Task EnsureContainerAsync(HttpClient http, string url, CancellationToken ct)
    {
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), ct);
        if (head.IsSuccessStatusCode) return;
        using var put = await http.SendAsync(new HttpRequestMessage(HttpMethod.Put, url), ct);
        if (!put.IsSuccessStatusCode) throw new InvalidOperationException($"the container {new Uri(url).AbsolutePath} could not be made: {(int)put.StatusCode}");
    }

    /// <summary>Downloads into FILE.part, checks the length (and the MD5 for plain objects), then renames it into place.</summary>
    internal static async Task<int> DownloadAsync(HttpClient http, string url, string file, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) throw new InvalidOperationException($"{new Uri(url).AbsolutePath} was not found");
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {new Uri(url).AbsolutePath} answered {(int)response.StatusCode}");
        var length = response.Content.Headers.ContentLength ?? -1;
        // A large object's ETag is not its content's MD5; a plain object's (and an image's Content-MD5) is.
        var large = response.Headers.Contains("X-Static-Large-Object") || response.Headers.Contains("X-Object-Manifest");
        var expected = response.Content.Headers.ContentMD5 is { } md5 ? Convert.ToHexStringLower(md5) : large ? null : ETagOf(response);
        var partial = file + ".part";
        string got;
        long written;
        await using (var body = await response.Content.ReadAsStreamAsync(ct))
        await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        using (var counted = new ProgressReadStream(body, long.MaxValue, _ => { }, md5: true))
        {
            (got, written) = await TransferProgress.RunAsync($"download {Path.GetFileName(file)}", length, async progress =>
            {
                var buffer = new byte[1 << 16];
                long total = 0;
                for (int read; (read = await counted.ReadAsync(buffer, ct)) > 0;)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), ct);
                    total += read;
                    progress(read);
                }
                await output.FlushAsync(ct);
                output.Flush(flushToDisk: true);
                return (counted.Md5Hex(), total);
            });
        }
        if ((length >= 0 && written != length) || (expected is not null && expected.Length == 32 && got != expected))
        {
            File.Delete(partial);
            throw new InvalidOperationException($"the download of {new Uri(url).AbsolutePath} was not whole or not intact ({written} of {length} bytes, MD5 {got}, expected {expected}); nothing was written");
        }
        File.Move(partial, file, overwrite: true);
        Console.Out.WriteLine($"{file}: {written} bytes, md5 {got}");
        return 0;
    }

    private static async Task<(HttpClient Http, string Account)> SwiftAsync(string? url)
    {
        var (token, answer) = await OpenRc.LoginAsync();
        var account = url ?? OpenRc.Endpoint(answer, "object-store") ?? throw new InvalidOperationException("the catalog has no object-store endpoint; give --url");
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        return (http, account.TrimEnd('/'));
    }

    internal static async Task<int> RunAsync(Func<Task<int>> run, string command = "object")
    {
        try
        {
            return await run();
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"storagecloud {command}: {e.Message}");
            return 1;
        }
    }
}

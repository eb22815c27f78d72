using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using StorageCloud.Block.Backups;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Host.Operator;

/// <summary>
/// `storagecloud backup create|restore|list`: volume backups through the Cinder API with a progress bar, and
/// `backup restore --from-container` that rebuilds a raw disk file from a backup's objects alone (its manifest and
/// packs, read through the Swift API), without the volume service.
/// </summary>
public static class BackupCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build()
    {
        var command = new Command("backup", "Back volumes up into the object store and restore them (uses the OS_* variables of an openrc).");
        var url = new Option<string?>("--url") { Description = "The volume service's project URL (default: the catalog's volumev3 endpoint).", Recursive = true };
        command.Options.Add(url);

        var volume = new Argument<string>("volume") { Description = "The volume's id." };
        var create = new Command("create", "Back a volume up and follow its progress.") { volume };
        var incremental = new Option<bool>("--incremental") { Description = "Store only what changed since the volume's latest backup." };
        var force = new Option<bool>("--force") { Description = "Back up an in-use volume (a consistent image taken at once)." };
        var name = new Option<string?>("--name") { Description = "A name." };
        var container = new Option<string?>("--container") { Description = "The container (default volumebackups)." };
        var snapshot = new Option<string?>("--snapshot") { Description = "Back this snapshot of the volume up instead." };
        foreach (var option in new Option[] { incremental, force, name, container, snapshot }) create.Options.Add(option);
        create.SetAction((r, ct) => RunAsync(async () =>
        {
            var (http, cinder) = await CinderAsync(r.GetValue(url));
            var body = new JsonObject { ["volume_id"] = r.GetValue(volume), ["incremental"] = r.GetValue(incremental), ["force"] = r.GetValue(force) };
            if (r.GetValue(name) is { } n) body["name"] = n;
            if (r.GetValue(container) is { } c) body["container"] = c;
            if (r.GetValue(snapshot) is { } s) body["snapshot_id"] = s;
            var answer = await AnswerAsync(await http.PostAsJsonAsync($"{cinder}/backups", new JsonObject { ["backup"] = body }, ct), ct);
            var id = answer["backup"]!["id"]!.GetValue<string>();
            var done = await FollowAsync(http, $"{cinder}/backups/{id}/progress", $"backup {id}", ["available", "error"], ct);
            Console.Out.WriteLine($"backup {id}: {done["status"]}, {done["stored_bytes"]} bytes stored in {done["object_count"]} objects");
            return done["status"]!.GetValue<string>() == "available" ? 0 : 1;
        }));

        var backup = new Argument<string>("backup") { Description = "The backup's id." };
        var restore = new Command("restore", "Restore a backup into a new volume, an existing one (--volume), or a raw file (--from-container ... --to FILE).") { backup };
        var into = new Option<string?>("--volume") { Description = "Restore over this volume (it must be available and large enough)." };
        var fromContainer = new Option<string?>("--from-container") { Description = "Read the backup's manifest and packs from this container through the Swift API, without the volume service." };
        var to = new Option<string?>("--to") { Description = "With --from-container: the raw file to write." };
        var objectStore = new Option<string?>("--object-store-url") { Description = "With --from-container: the account's Swift URL (default: the catalog's object-store endpoint)." };
        foreach (var option in new Option[] { into, fromContainer, to, objectStore }) restore.Options.Add(option);
        restore.SetAction((r, ct) => RunAsync(async () =>
        {
            if (r.GetValue(fromContainer) is { } source)
                return await RestoreFileAsync(r.GetValue(backup)!, source, r.GetValue(to) ?? throw new InvalidOperationException("--from-container needs --to FILE"),
                    r.GetValue(objectStore), ct);
            var (http, cinder) = await CinderAsync(r.GetValue(url));
            var body = new JsonObject();
            if (r.GetValue(into) is { } target) body["volume_id"] = target;
            var answer = await AnswerAsync(await http.PostAsJsonAsync($"{cinder}/backups/{r.GetValue(backup)}/restore", new JsonObject { ["restore"] = body }, ct), ct);
            var volumeId = answer["restore"]!["volume_id"]!.GetValue<string>();
            var done = await FollowAsync(http, $"{cinder}/backups/{r.GetValue(backup)}/progress", $"restore into {volumeId}", ["available", "error"], ct,
                until: p => p["restore_volume_id"] is null);
            var status = (await AnswerAsync(await http.GetAsync($"{cinder}/volumes/{volumeId}", ct), ct))["volume"]!["status"]!.GetValue<string>();
            Console.Out.WriteLine($"volume {volumeId}: {status}{(done["fail_reason"] is { } reason && status != "available" ? $" ({reason})" : "")}");
            return status == "available" ? 0 : 1;
        }));

        var list = new Command("list", "List the project's backups.");
        list.SetAction((r, ct) => RunAsync(async () =>
        {
            var (http, cinder) = await CinderAsync(r.GetValue(url));
            var table = new Table().AddColumns("ID", "NAME", "STATUS", "SIZE (GiB)", "INCREMENTAL", "VOLUME", "CONTAINER");
            foreach (var b in (await AnswerAsync(await http.GetAsync($"{cinder}/backups/detail", ct), ct))["backups"]!.AsArray())
                table.AddRow(Markup.Escape($"{b!["id"]}"), Markup.Escape($"{b["name"]}"), $"{b["status"]}", $"{b["size"]}", $"{b["is_incremental"]}", $"{b["volume_id"]}",
                    Markup.Escape($"{b["container"]}"));
            AnsiConsole.Write(table);
            return 0;
        }));

        foreach (var sub in new[] { create, restore, list }) command.Subcommands.Add(sub);
        return command;
    }

    private static async Task<int> RunAsync(Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or System.Text.Json.JsonException or BackupCorruptException or IOException
                                       or ObjectLayerException)
        {
            Console.Error.WriteLine($"storagecloud backup: {e.Message}");
            return 1;
        }
    }

    private static async Task<(HttpClient Http, string Cinder)> CinderAsync(string? url)
    {
        var (token, answer) = await OpenRc.LoginAsync();
        var cinder = url ?? OpenRc.Endpoint(answer, "volumev3") ?? throw new InvalidOperationException("the catalog has no volumev3 endpoint; give --url");
        var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        http.DefaultRequestHeaders.Add("OpenStack-API-Version", "volume 3.60");
        return (http, cinder.TrimEnd('/'));
    }

    private static async Task<JsonNode> AnswerAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                var message = JsonNode.Parse(text) is JsonObject fault && fault.FirstOrDefault().Value?["message"] is { } m ? m.GetValue<string>() : text;
                throw new InvalidOperationException($"{(int)response.StatusCode}: {message}");
            }
            return JsonNode.Parse(text) ?? new JsonObject();
        }
    }

    /// <summary>Polls a backup's progress with a progress bar until its status is one of <paramref name="final"/> (and <paramref name="until"/> holds).</summary>
    private static async Task<JsonNode> FollowAsync(HttpClient http, string progressUrl, string what, string[] final, CancellationToken ct, Func<JsonNode, bool>? until = null)
    {
        JsonNode last = new JsonObject();
        await AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(what), maxValue: 100);
                while (true)
                {
                    last = (await AnswerAsync(await http.GetAsync(progressUrl, ct), ct))["progress"]!;
                    task.Value = last["percent"]!.GetValue<int>();
                    if (final.Contains(last["status"]!.GetValue<string>()) && (until?.Invoke(last) ?? true)) break;
                    await Task.Delay(500, ct);
                }
                task.Value = 100;
            });
        return last;
    }

    /// <summary>Rebuilds the volume a backup holds as a raw file from the container's objects alone.</summary>
    private static async Task<int> RestoreFileAsync(string backup, string container, string file, string? objectStoreUrl, CancellationToken ct)
    {
        var (token, answer) = await OpenRc.LoginAsync();
        var account = objectStoreUrl ?? OpenRc.Endpoint(answer, "object-store") ?? throw new InvalidOperationException("the catalog has no object-store endpoint; give --object-store-url");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        var objects = new SwiftObjects(http, $"{account.TrimEnd('/')}/{Uri.EscapeDataString(container)}");
        var manifest = await BackupRestorer.ReadManifestAsync(objects, $"manifests/{backup}", backup, ct);
        await using (var output = new FileStream(file, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous))
        {
            output.SetLength(manifest.Size);
            var target = new FileTarget(output);
            await AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape($"restore {backup} to {file}"), maxValue: 100);
                    await BackupRestorer.RestoreAsync(manifest, objects, target, 4, percent =>
                    {
                        task.Value = percent;
                        return Task.CompletedTask;
                    }, ct);
                    task.Value = 100;
                });
        }
        Console.Out.WriteLine($"{file}: {manifest.Size} bytes from backup {backup} ({manifest.Blocks.Count} blocks, each checked against its SHA-256)");
        return 0;
    }

    /// <summary>A container read through the Swift API.</summary>
    private sealed class SwiftObjects(HttpClient http, string containerUrl) : IBackupObjects
    {
        public async Task ReadAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{containerUrl}/{name}");
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, offset + destination.Length - 1);
            using var response = await SendAsync(request, name, cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await body.ReadExactlyAsync(destination, cancellationToken);
        }

        public async Task<byte[]> ReadAllAsync(string name, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{containerUrl}/{name}");
            using var response = await SendAsync(request, name, cancellationToken);
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }

        private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string name, CancellationToken cancellationToken)
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                throw new ObjectNotFoundException(name);
            }
            if (!response.IsSuccessStatusCode)
            {
                response.Dispose();
                throw new ObjectLayerException((int)response.StatusCode, $"GET {name}: {(int)response.StatusCode}");
            }
            return response;
        }
    }

    /// <summary>A new (sparse) raw file as a restore target: zero blocks are left as holes.</summary>
    private sealed class FileTarget(FileStream file) : IBackupTarget
    {
        public bool Blank => true;

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            RandomAccess.WriteAsync(file.SafeFileHandle, data, offset, cancellationToken);

        public ValueTask ZeroAsync(long offset, long length, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            file.Flush(flushToDisk: true);
            return ValueTask.CompletedTask;
        }
    }
}

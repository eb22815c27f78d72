using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Operator;

/// <summary>
/// `storagecloud volume create|list|show|delete|attach|detach|takeover`: the block admin API for operators, with the
/// credentials of an openrc (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME and the domains).
/// </summary>
public static class VolumeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build()
    {
        var command = new Command("volume", "Create, list and delete block volumes, exported over NBD (uses the OS_* variables of an openrc).");
        var url = new Option<string>("--url") { Description = "The volume service (default http://127.0.0.1:8776).", DefaultValueFactory = _ => "http://127.0.0.1:8776", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON.", Recursive = true };
        command.Options.Add(url);
        command.Options.Add(json);
        var id = new Argument<string>("volume") { Description = "The volume's id." };

        var create = new Command("create", "Create a volume.");
        var size = new Option<string>("--size") { Description = "Size: bytes, or with KiB, MiB, GiB or TiB.", Required = true };
        var name = new Option<string?>("--name") { Description = "A name." };
        create.Options.Add(size);
        create.Options.Add(name);
        create.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http =>
        {
            var bytes = ParseSize(r.GetValue(size)!);
            using var response = await http.PostAsJsonAsync("block/volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = bytes, ["name"] = r.GetValue(name) ?? "" } }, ct);
            return await AnswerAsync(response, ct);
        }));

        var list = new Command("list", "List volumes.");
        list.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http => await AnswerAsync(await http.GetAsync("block/volumes", ct), ct)));

        var show = new Command("show", "Show a volume.") { id };
        show.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http => await AnswerAsync(await http.GetAsync($"block/volumes/{r.GetValue(id)}", ct), ct)));

        var delete = new Command("delete", "Delete a volume and its chunks.") { id };
        delete.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http => await AnswerAsync(await http.DeleteAsync($"block/volumes/{r.GetValue(id)}", ct), ct)));

        var host = new Option<string>("--host") { Description = "The host's IP address.", Required = true };
        var attach = new Command("attach", "Let a host reach the volume over NBD (when the NBD server is bound beyond loopback).") { id };
        attach.Options.Add(host);
        attach.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http => await AnswerAsync(
            await http.PostAsJsonAsync($"block/volumes/{r.GetValue(id)}/attachments", new JsonObject { ["attachment"] = new JsonObject { ["host"] = r.GetValue(host) } }, ct), ct)));
        var detach = new Command("detach", "Stop serving the volume to a host.") { id };
        detach.Options.Add(host);
        detach.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http =>
            await AnswerAsync(await http.DeleteAsync($"block/volumes/{r.GetValue(id)}/attachments/{r.GetValue(host)}", ct), ct)));

        var takeover = new Command("takeover", "Take the volume's write lease over (the old writer is fenced off).") { id };
        takeover.SetAction((r, ct) => RunAsync(r.GetValue(url)!, r.GetValue(json), async http => await AnswerAsync(await http.PostAsync($"block/volumes/{r.GetValue(id)}/takeover", null, ct), ct)));

        foreach (var sub in new[] { create, list, show, delete, attach, detach, takeover }) command.Subcommands.Add(sub);
        return command;
    }

    /// <summary>"1GiB" → 1073741824.</summary>
    public static long ParseSize(string text)
    {
        var units = new (string Suffix, long Factor)[] { ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10), ("", 1) };
        foreach (var (suffix, factor) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            if (long.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= long.MaxValue / factor) return n * factor;
            break;
        }
        throw new FormatException($"'{text}' is not a size (e.g. 1073741824, 512MiB, 1GiB)");
    }

    private static async Task<int> RunAsync(string url, bool json, Func<HttpClient, Task<JsonNode?>> call)
    {
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/") };
            http.DefaultRequestHeaders.Add("X-Auth-Token", (await OpenRc.LoginAsync()).Token);
            var answer = await call(http);
            if (answer is null) return 0;
            Console.Out.WriteLine(json ? answer.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) : Table(answer));
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"storagecloud volume: {e.Message}");
            return 1;
        }
    }

    private static async Task<JsonNode?> AnswerAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            var message = JsonNode.Parse(text) is JsonObject fault && fault.FirstOrDefault().Value?["message"] is { } m ? m.GetValue<string>() : text;
            throw new InvalidOperationException($"{(int)response.StatusCode}: {message}");
        }
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    private static string Table(JsonNode answer)
    {
        var rows = answer["volumes"]?.AsArray().Select(v => v!).ToList() ?? (answer["volume"] is { } one ? [one] : null);
        if (rows is null) return answer.ToJsonString();
        var lines = new List<string> { $"{"ID",-36}  {"SIZE",14}  {"STATUS",-10}  {"NAME",-20}  EXPORT" };
        foreach (var v in rows)
            lines.Add($"{v["id"],-36}  {v["size"],14}  {v["status"],-10}  {v["name"],-20}  {v["export"]}");
        return string.Join(Environment.NewLine, lines);
    }
}

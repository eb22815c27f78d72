using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Volumes through the volume API with the user's token: list, create, delete, snapshot, attach to and detach from an
/// instance (through the compute API, as Horizon does); backups and transfers are in VolumeTransferPages.cs.
/// </summary>
public sealed partial class DashboardApp
{
    private Task VolumesAsync(HttpContext context, Session session, string path, bool post) =>
        ServicePagesAsync(context, session, path, post, "volumev3", "Volumes", api => ListVolumesAsync(context, session, api), (api, parts) => VolumeActionAsync(context, session, api, parts));

    private async Task VolumeActionAsync(HttpContext context, Session session, string api, string[] parts)
    {
        var form = await context.Request.ReadFormAsync();
        (HttpStatusCode Status, JsonObject? Body) answer;
        if (parts.Length == 2)
        {
            if (!int.TryParse(form["size"], NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
            {
                await WritePageAsync(context, "Volumes", "<p class=\"error\">A volume's size is a whole number of GiB, 1 or more.</p>", session, 400);
                return;
            }
            answer = await SendAsync(HttpMethod.Post, $"{api}/volumes", session.Token,
                new JsonObject { ["volume"] = new JsonObject { ["name"] = form["name"].ToString(), ["size"] = size } });
        }
        else if (parts.Length == 3 && parts[2] == "accept")
        {
            await AcceptTransferAsync(context, session, api, form);
            return;
        }
        else if (parts.Length == 5 && parts[2] is "backups" or "transfers" && Guid.TryParse(parts[3], out var item))
        {
            await BackupOrTransferActionAsync(context, session, api, parts[2], item, parts[4]);
            return;
        }
        else if (parts.Length == 4 && Guid.TryParse(parts[2], out var id))
        {
            switch (parts[3])
            {
                case "delete":
                    answer = await SendAsync(HttpMethod.Delete, $"{api}/volumes/{id}", session.Token);
                    break;
                case "snapshot":
                    answer = await SendAsync(HttpMethod.Post, $"{api}/snapshots", session.Token,
                        new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id.ToString(), ["name"] = form["name"].ToString() } });
                    break;
                case "backup":
                    answer = await SendAsync(HttpMethod.Post, $"{api}/backups", session.Token,
                        new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = id.ToString(), ["name"] = form["name"].ToString(), ["force"] = true } });
                    break;
                case "transfer":
                    await CreateTransferAsync(context, session, api, id, form["name"].ToString());
                    return;
                case "attach" or "detach":
                    answer = await AttachmentAsync(session, id, parts[3], form["server"].ToString());
                    break;
                default:
                    await NotFoundAsync(context, session);
                    return;
            }
        }
        else
        {
            await NotFoundAsync(context, session);
            return;
        }
        await AfterAsync(context, session, answer.Status, answer.Body, "/volumes");
    }

    /// <summary>Attaches a volume to an instance or detaches it, through the compute API (which tells the volume service).</summary>
    private async Task<(HttpStatusCode, JsonObject?)> AttachmentAsync(Session session, Guid volume, string action, string server)
    {
        if (!session.Endpoints.TryGetValue("compute", out var compute)) return (HttpStatusCode.NotFound, Error("This cloud has no compute service."));
        if (!Guid.TryParse(server, out var serverId)) return (HttpStatusCode.BadRequest, Error("Choose an instance."));
        return action == "attach"
            ? await SendAsync(HttpMethod.Post, $"{compute}/servers/{serverId}/os-volume_attachments", session.Token,
                new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume.ToString() } })
            : await SendAsync(HttpMethod.Delete, $"{compute}/servers/{serverId}/os-volume_attachments/{volume}", session.Token);
    }

    /// <summary>An error body shaped as the services' (one key holding the message).</summary>
    private static JsonObject Error(string message) => new() { ["error"] = new JsonObject { ["message"] = message } };

    private async Task ListVolumesAsync(HttpContext context, Session session, string api)
    {
        var volumes = await GetJsonAsync($"{api}/volumes/detail", session.Token);
        var snapshots = await GetJsonAsync($"{api}/snapshots/detail", session.Token);
        var servers = session.Endpoints.TryGetValue("compute", out var compute) ? (await GetJsonAsync($"{compute}/servers", session.Token))?["servers"] as JsonArray : null;
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in servers ?? []) names[s!["id"]!.ToString()] = s["name"]?.ToString() ?? "";
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder("<form method=\"post\" action=\"/volumes\">").Append(csrf)
            .Append("<label>Name <input name=\"name\" maxlength=\"255\"></label><label>Size (GiB) <input name=\"size\" type=\"number\" min=\"1\" value=\"1\" required></label>")
            .Append("<button type=\"submit\">Create volume</button></form>")
            .Append("<table><thead><tr><th>Name</th><th>Status</th><th>Size (GiB)</th><th>Attached to</th><th>Actions</th></tr></thead><tbody>");
        foreach (var v in volumes?["volumes"] as JsonArray ?? [])
        {
            var id = v!["id"]!.ToString();
            var name = v["name"]?.ToString() is { Length: > 0 } n ? n : id;
            var action = $"/volumes/{E(id)}";
            var attachedTo = (v["attachments"] as JsonArray)?.FirstOrDefault()?["server_id"]?.ToString();
            body.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(E(v["status"]?.ToString()))
                .Append("</td><td>").Append(E(v["size"]?.ToString())).Append("</td><td>")
                .Append(attachedTo is null ? "" : E(names.TryGetValue(attachedTo, out var server) ? server : attachedTo)).Append("</td><td>");
            foreach (var (verb, label) in new[] { ("snapshot", "Snapshot"), ("backup", "Back up"), ("transfer", "Transfer") })
                body.Append("<form method=\"post\" action=\"").Append(action).Append('/').Append(verb).Append("\" class=\"inline\">").Append(csrf)
                    .Append("<input type=\"hidden\" name=\"name\" value=\"").Append(E($"{v["name"]}-{verb}")).Append("\">")
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"{label} {name}")).Append("\">").Append(label).Append("</button></form> ");
            if (attachedTo is not null)
                body.Append("<form method=\"post\" action=\"").Append(action).Append("/detach\" class=\"inline\">").Append(csrf)
                    .Append("<input type=\"hidden\" name=\"server\" value=\"").Append(E(attachedTo)).Append("\">")
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"Detach {name}")).Append("\">Detach</button></form> ");
            else if (servers is { Count: > 0 })
            {
                body.Append("<form method=\"post\" action=\"").Append(action).Append("/attach\" class=\"inline\">").Append(csrf);
                Select(body, $"Attach {name} to", "server", servers, "id", "name");
                body.Append("<button type=\"submit\" aria-label=\"").Append(E($"Attach {name}")).Append("\">Attach</button></form> ");
            }
            body.Append("<form method=\"post\" action=\"").Append(action).Append("/delete\" class=\"inline\">").Append(csrf)
                .Append("<button type=\"submit\" aria-label=\"").Append(E($"Delete {name}")).Append("\">Delete</button></form></td></tr>");
        }
        body.Append("</tbody></table><h2>Snapshots</h2><table><thead><tr><th>Name</th><th>Status</th><th>Volume</th></tr></thead><tbody>");
        var volumeNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var v in volumes?["volumes"] as JsonArray ?? []) volumeNames[v!["id"]!.ToString()] = v["name"]?.ToString() is { Length: > 0 } n ? n : v["id"]!.ToString();
        foreach (var s in snapshots?["snapshots"] as JsonArray ?? [])
            body.Append("<tr><td>").Append(E(s!["name"]?.ToString())).Append("</td><td>").Append(E(s["status"]?.ToString())).Append("</td><td>")
                .Append(E(volumeNames.GetValueOrDefault(s["volume_id"]?.ToString() ?? "", s["volume_id"]?.ToString() ?? ""))).Append("</td></tr>");
        body.Append("</tbody></table>");
        await AppendBackupsAndTransfersAsync(body, session, api);
        await WritePageAsync(context, "Volumes", body.ToString(), session);
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Volume backups (with their progress while they run; restore into a new volume, delete) and transfers (create: the
/// id and authorization key are shown once; cancel; accept one made in another project).
/// </summary>
public sealed partial class DashboardApp
{
    private async Task AppendBackupsAndTransfersAsync(StringBuilder body, Session session, string api)
    {
        var csrf = CsrfField(session.Csrf);
        var backups = await GetJsonAsync($"{api}/backups/detail", session.Token);
        var running = false;
        body.Append("<h2>Backups</h2><table><thead><tr><th>Name</th><th>Status</th><th>Size (GiB)</th><th>Volume</th><th>Actions</th></tr></thead><tbody>");
        foreach (var b in backups?["backups"] as JsonArray ?? [])
        {
            var id = b!["id"]!.ToString();
            var name = b["name"]?.ToString() is { Length: > 0 } n ? n : id;
            var status = b["status"]?.ToString() ?? "";
            body.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(E(status));
            if (status is "creating" or "restoring" && await GetJsonAsync($"{api}/backups/{U(id)}/progress", session.Token) is { } progress)
            {
                running = true;
                var percent = progress["progress"]?["percent"]?.GetValue<int>() ?? 0;
                body.Append(" <progress max=\"100\" value=\"").Append(percent).Append("\" aria-label=\"").Append(E($"{name} {status}")).Append("\">")
                    .Append(percent).Append("%</progress>");
            }
            body.Append("</td><td>").Append(E(b["size"]?.ToString())).Append("</td><td>").Append(E(b["volume_id"]?.ToString())).Append("</td><td>");
            foreach (var (verb, label) in new[] { ("restore", "Restore"), ("delete", "Delete") })
                body.Append("<form method=\"post\" action=\"/volumes/backups/").Append(E(id)).Append('/').Append(verb).Append("\" class=\"inline\">").Append(csrf)
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"{label} backup {name}")).Append("\">").Append(label).Append("</button></form> ");
            body.Append("</td></tr>");
        }
        body.Append("</tbody></table>");
        // The page reloads itself while a backup or restore runs, so its bar moves (app.js).
        if (running) body.Append("<p data-refresh=\"3\">A backup or restore is running; this page refreshes itself.</p>");

        var transfers = await GetJsonAsync($"{api}/os-volume-transfer/detail", session.Token);
        body.Append("<h2>Transfers</h2><table><thead><tr><th>Name</th><th>Transfer id</th><th>Volume</th><th>Actions</th></tr></thead><tbody>");
        foreach (var t in transfers?["transfers"] as JsonArray ?? [])
        {
            var id = t!["id"]!.ToString();
            body.Append("<tr><td>").Append(E(t["name"]?.ToString())).Append("</td><td>").Append(E(id)).Append("</td><td>").Append(E(t["volume_id"]?.ToString()))
                .Append("</td><td><form method=\"post\" action=\"/volumes/transfers/").Append(E(id)).Append("/delete\" class=\"inline\">").Append(csrf)
                .Append("<button type=\"submit\" aria-label=\"").Append(E($"Cancel transfer {t["name"]}")).Append("\">Cancel</button></form></td></tr>");
        }
        body.Append("</tbody></table><h2>Accept a transfer</h2><form method=\"post\" action=\"/volumes/accept\">").Append(csrf)
            .Append("<label>Transfer id <input name=\"transfer_id\" required autocomplete=\"off\"></label>")
            .Append("<label>Authorization key <input name=\"auth_key\" required autocomplete=\"off\"></label>")
            .Append("<button type=\"submit\">Accept transfer</button></form>");
    }

    /// <summary>Offers a volume to another project: the key is shown here once (the volume service keeps only its hash).</summary>
    private async Task CreateTransferAsync(HttpContext context, Session session, string api, Guid volume, string name)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, $"{api}/os-volume-transfer", session.Token,
            new JsonObject { ["transfer"] = new JsonObject { ["volume_id"] = volume.ToString(), ["name"] = name } });
        if (status != HttpStatusCode.Accepted && status != HttpStatusCode.OK || body?["transfer"] is not { } transfer)
        {
            await AfterAsync(context, session, status >= HttpStatusCode.BadRequest ? status : HttpStatusCode.BadGateway, body, "/volumes");
            return;
        }
        var page = new StringBuilder("<p role=\"status\">Give both values to the project that is to take the volume. The key is shown only now.</p><dl>")
            .Append("<dt>Transfer id</dt><dd><output id=\"transfer-id\">").Append(E(transfer["id"]?.ToString())).Append("</output></dd>")
            .Append("<dt>Authorization key</dt><dd><output id=\"auth-key\">").Append(E(transfer["auth_key"]?.ToString())).Append("</output></dd></dl>")
            .Append("<p><a href=\"/volumes\">Back to volumes</a></p>");
        await WritePageAsync(context, "Volume transfer", page.ToString(), session);
    }

    private async Task AcceptTransferAsync(HttpContext context, Session session, string api, IFormCollection form)
    {
        var id = form["transfer_id"].ToString().Trim();
        if (!Guid.TryParse(id, out var transfer))
        {
            await AfterAsync(context, session, HttpStatusCode.BadRequest, Error("A transfer id is a UUID."), "/volumes");
            return;
        }
        var (status, body) = await SendAsync(HttpMethod.Post, $"{api}/os-volume-transfer/{transfer}/accept", session.Token,
            new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = form["auth_key"].ToString().Trim() } });
        await AfterAsync(context, session, status, body, "/volumes");
    }

    private async Task BackupOrTransferActionAsync(HttpContext context, Session session, string api, string kind, Guid id, string action)
    {
        (HttpStatusCode Status, JsonObject? Body) answer;
        switch (kind, action)
        {
            case ("backups", "restore"):
                answer = await SendAsync(HttpMethod.Post, $"{api}/backups/{id}/restore", session.Token, new JsonObject { ["restore"] = new JsonObject() });
                break;
            case ("backups", "delete"):
                answer = await SendAsync(HttpMethod.Delete, $"{api}/backups/{id}", session.Token);
                break;
            case ("transfers", "delete"):
                answer = await SendAsync(HttpMethod.Delete, $"{api}/os-volume-transfer/{id}", session.Token);
                break;
            default:
                await NotFoundAsync(context, session);
                return;
        }
        await AfterAsync(context, session, answer.Status, answer.Body, "/volumes");
    }
}

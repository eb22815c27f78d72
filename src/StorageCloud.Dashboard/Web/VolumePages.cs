using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>Volumes and their snapshots through the volume API with the user's token: list, create, snapshot, delete.</summary>
public sealed partial class DashboardApp
{
    private async Task VolumesAsync(HttpContext context, Session session, string path, bool post)
    {
        if (!session.Endpoints.TryGetValue("volumev3", out var api))
        {
            await WritePageAsync(context, "Volumes", "<p>This cloud has no volume service.</p>", session);
            return;
        }
        var parts = path.Split('/');
        if (!post && parts.Length == 2)
        {
            await ListVolumesAsync(context, session, api);
            return;
        }
        if (!post)
        {
            await WritePageAsync(context, "Not found", "<p>There is no such page.</p>", session, 404);
            return;
        }
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
        else if (parts.Length == 4 && Guid.TryParse(parts[2], out var id) && parts[3] is "delete" or "snapshot")
        {
            answer = parts[3] == "delete"
                ? await SendAsync(HttpMethod.Delete, $"{api}/volumes/{id}", session.Token)
                : await SendAsync(HttpMethod.Post, $"{api}/snapshots", session.Token,
                    new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id.ToString(), ["name"] = form["name"].ToString() } });
        }
        else
        {
            await WritePageAsync(context, "Not found", "<p>There is no such page.</p>", session, 404);
            return;
        }
        if ((int)answer.Status >= 400)
        {
            var message = answer.Body?.FirstOrDefault().Value?["message"]?.ToString() ?? $"the volume service answered {(int)answer.Status}";
            await WritePageAsync(context, "Volumes", $"<p class=\"error\" role=\"alert\">{E(message)}</p><p><a href=\"/volumes\">Back</a></p>", session, (int)answer.Status);
            return;
        }
        context.Response.Redirect("/volumes");
        context.Response.StatusCode = 303;
    }

    private async Task ListVolumesAsync(HttpContext context, Session session, string api)
    {
        var volumes = await GetJsonAsync($"{api}/volumes/detail", session.Token);
        var snapshots = await GetJsonAsync($"{api}/snapshots/detail", session.Token);
        var body = new StringBuilder("<form method=\"post\" action=\"/volumes\">").Append(CsrfField(session.Csrf))
            .Append("<label>Name <input name=\"name\" maxlength=\"255\"></label><label>Size (GiB) <input name=\"size\" type=\"number\" min=\"1\" value=\"1\" required></label>")
            .Append("<button type=\"submit\">Create volume</button></form>")
            .Append("<table><thead><tr><th>Name</th><th>Status</th><th>Size (GiB)</th><th>Actions</th></tr></thead><tbody>");
        foreach (var v in volumes?["volumes"] as JsonArray ?? [])
        {
            var id = v!["id"]!.ToString();
            body.Append("<tr><td>").Append(E(v["name"]?.ToString() is { Length: > 0 } n ? n : id)).Append("</td><td>").Append(E(v["status"]?.ToString()))
                .Append("</td><td>").Append(E(v["size"]?.ToString())).Append("</td><td>")
                .Append("<form method=\"post\" action=\"/volumes/").Append(E(id)).Append("/snapshot\" class=\"inline\">").Append(CsrfField(session.Csrf))
                .Append("<input type=\"hidden\" name=\"name\" value=\"").Append(E((v["name"]?.ToString() ?? "") + "-snap")).Append("\"><button type=\"submit\">Snapshot</button></form> ")
                .Append("<form method=\"post\" action=\"/volumes/").Append(E(id)).Append("/delete\" class=\"inline\">").Append(CsrfField(session.Csrf))
                .Append("<button type=\"submit\">Delete</button></form></td></tr>");
        }
        body.Append("</tbody></table><h2>Snapshots</h2><table><thead><tr><th>Name</th><th>Status</th><th>Volume</th></tr></thead><tbody>");
        foreach (var s in snapshots?["snapshots"] as JsonArray ?? [])
            body.Append("<tr><td>").Append(E(s!["name"]?.ToString())).Append("</td><td>").Append(E(s["status"]?.ToString())).Append("</td><td>")
                .Append(E(s["volume_id"]?.ToString())).Append("</td></tr>");
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Volumes", body.ToString(), session);
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Instances through the compute API with the user's token (and the image, volume and network lists the launch form offers): the instance list with status and
/// addresses, the launch form (name, flavor, image or bootable volume, network, key pair, security group), power
/// actions, delete, console log.
/// </summary>
public sealed partial class DashboardApp
{
    private static readonly Dictionary<string, JsonNode?> InstanceActions = new(StringComparer.Ordinal)
    {
        ["stop"] = new JsonObject { ["os-stop"] = null },
        ["start"] = new JsonObject { ["os-start"] = null },
        ["reboot"] = new JsonObject { ["reboot"] = new JsonObject { ["type"] = "SOFT" } },
        ["pause"] = new JsonObject { ["pause"] = null },
        ["unpause"] = new JsonObject { ["unpause"] = null },
    };

    private async Task InstancesAsync(HttpContext context, Session session, string path, bool post)
    {
        if (!session.Endpoints.TryGetValue("compute", out var compute))
        {
            await WritePageAsync(context, "Instances", "<p>This cloud has no compute service.</p>", session);
            return;
        }
        var parts = path.Split('/');
        if (parts.Length == 2)
        {
            if (post) await LaunchAsync(context, session, compute);
            else await ListInstancesAsync(context, session, compute);
            return;
        }
        if (parts.Length == 4 && Guid.TryParse(parts[2], out var id))
        {
            var action = parts[3];
            if (!post && action == "console")
            {
                var (status, body) = await SendAsync(HttpMethod.Post, $"{compute}/servers/{id}/action", session.Token,
                    new JsonObject { ["os-getConsoleOutput"] = new JsonObject { ["length"] = 200 } });
                var text = status == HttpStatusCode.OK ? body?["output"]?.ToString() ?? "" : $"(the compute service answered {(int)status})";
                await WritePageAsync(context, "Console log", $"<pre>{E(text)}</pre><p><a href=\"/instances\">Back to instances</a></p>", session, status == HttpStatusCode.OK ? 200 : (int)status);
                return;
            }
            if (post && (action == "delete" || InstanceActions.ContainsKey(action)))
            {
                var (status, body) = action == "delete"
                    ? await SendAsync(HttpMethod.Delete, $"{compute}/servers/{id}", session.Token)
                    : await SendAsync(HttpMethod.Post, $"{compute}/servers/{id}/action", session.Token, (JsonObject)InstanceActions[action]!.DeepClone());
                await AfterAsync(context, session, status, body, "/instances");
                return;
            }
        }
        await WritePageAsync(context, "Not found", "<p>There is no such page.</p>", session, 404);
    }

    /// <summary>Back to the list after a change, or the service's refusal shown with its message.</summary>
    private static async Task AfterAsync(HttpContext context, Session session, HttpStatusCode status, JsonObject? body, string back)
    {
        if ((int)status >= 400)
        {
            var message = body?.FirstOrDefault().Value?["message"]?.ToString() ?? $"the service answered {(int)status}";
            await WritePageAsync(context, "Not done", $"<p class=\"error\" role=\"alert\">{E(message)}</p><p><a href=\"{E(back)}\">Back</a></p>", session, (int)status);
            return;
        }
        context.Response.Redirect(back);
        context.Response.StatusCode = 303;
    }

    private async Task ListInstancesAsync(HttpContext context, Session session, string compute)
    {
        var servers = await GetJsonAsync($"{compute}/servers/detail", session.Token);
        var flavors = await GetJsonAsync($"{compute}/flavors", session.Token);
        var images = session.Endpoints.TryGetValue("image", out var image) ? await GetJsonAsync($"{image}/v2/images?status=active", session.Token) : null;
        var networks = session.Endpoints.TryGetValue("network", out var network) ? await GetJsonAsync($"{network}/v2.0/networks", session.Token) : null;
        var groups = network is null ? null : await GetJsonAsync($"{network}/v2.0/security-groups?project_id={U(session.ProjectId)}", session.Token);
        var volumes = session.Endpoints.TryGetValue("volumev3", out var volume) ? await GetJsonAsync($"{volume}/volumes/detail?status=available", session.Token) : null;
        var keypairs = await GetJsonAsync($"{compute}/os-keypairs", session.Token);
        var body = new StringBuilder("<h2>Launch an instance</h2><form method=\"post\" action=\"/instances\">").Append(CsrfField(session.Csrf))
            .Append("<label>Name <input name=\"name\" required maxlength=\"255\"></label>");
        Select(body, "Flavor", "flavor", flavors?["flavors"] as JsonArray, "id", "name");
        Select(body, "Image", "image", images?["images"] as JsonArray, "id", "name");
        Select(body, "Boot from volume", "volume", BootableVolumes(volumes), "id", "name", optional: "(no: boot from the image)");
        Select(body, "Network", "network", networks?["networks"] as JsonArray, "id", "name", optional: "(none)");
        Select(body, "Key pair", "key_name", KeyPairNames(keypairs), "name", "name", optional: "(none)");
        Select(body, "Security group", "security_group", groups?["security_groups"] as JsonArray, "name", "name", optional: "(default)");
        body.Append("<button type=\"submit\">Launch</button></form>")
            .Append("<h2>Instances</h2><table><thead><tr><th>Name</th><th>Status</th><th>Addresses</th><th>Actions</th></tr></thead><tbody>");
        foreach (var s in servers?["servers"] as JsonArray ?? [])
        {
            var id = s!["id"]!.ToString();
            var addresses = new List<string>();
            foreach (var (net, list) in s["addresses"] as JsonObject ?? [])
                foreach (var a in list as JsonArray ?? []) addresses.Add($"{net}: {a!["addr"]}");
            body.Append("<tr><td>").Append(E(s["name"]?.ToString())).Append("</td><td>").Append(E(s["status"]?.ToString())).Append("</td><td>")
                .Append(E(string.Join(", ", addresses))).Append("</td><td>");
            foreach (var action in new[] { "start", "stop", "reboot", "pause", "unpause", "delete" })
                body.Append("<form method=\"post\" action=\"/instances/").Append(E(id)).Append('/').Append(action).Append("\" class=\"inline\">").Append(CsrfField(session.Csrf))
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"{action} {s["name"]}")).Append("\">").Append(action).Append("</button></form> ");
            body.Append("<a href=\"/instances/").Append(E(id)).Append("/console\">console log</a></td></tr>");
        }
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Instances", body.ToString(), session);
    }

    private static void Select(StringBuilder body, string label, string name, JsonArray? items, string value, string text, string? optional = null)
    {
        // The select carries its label as its accessible name too: a wrapping label's name would include the chosen option's text.
        body.Append("<label>").Append(E(label)).Append(" <select name=\"").Append(name).Append("\" aria-label=\"").Append(E(label)).Append("\">");
        if (optional is not null) body.Append("<option value=\"\">").Append(E(optional)).Append("</option>");
        foreach (var item in items ?? [])
            body.Append("<option value=\"").Append(E(item![value]?.ToString())).Append("\">").Append(E(item[text]?.ToString() is { Length: > 0 } t ? t : item[value]?.ToString())).Append("</option>");
        body.Append("</select></label>");
    }

    private static JsonArray BootableVolumes(JsonObject? volumes)
    {
        var list = new JsonArray();
        foreach (var v in volumes?["volumes"] as JsonArray ?? [])
            if (v!["bootable"]?.ToString() == "true" && v["status"]?.ToString() == "available")
                list.Add(new JsonObject { ["id"] = v["id"]!.ToString(), ["name"] = v["name"]?.ToString() is { Length: > 0 } n ? n : v["id"]!.ToString() });
        return list;
    }

    private static JsonArray KeyPairNames(JsonObject? keypairs)
    {
        var list = new JsonArray();
        foreach (var k in keypairs?["keypairs"] as JsonArray ?? []) list.Add(new JsonObject { ["name"] = k!["keypair"]?["name"]?.ToString() });
        return list;
    }

    private async Task LaunchAsync(HttpContext context, Session session, string compute)
    {
        var form = await context.Request.ReadFormAsync();
        var server = new JsonObject
        {
            ["name"] = form["name"].ToString(), ["flavorRef"] = form["flavor"].ToString(), ["imageRef"] = form["image"].ToString(),
            ["networks"] = form["network"].ToString() is { Length: > 0 } network ? new JsonArray(new JsonObject { ["uuid"] = network }) : "none",
        };
        if (Guid.TryParse(form["volume"], out var bootVolume))
        {
            server["imageRef"] = "";
            server["block_device_mapping_v2"] = new JsonArray(new JsonObject
            {
                ["boot_index"] = 0, ["uuid"] = bootVolume.ToString(), ["source_type"] = "volume", ["destination_type"] = "volume", ["delete_on_termination"] = false,
            });
        }
        if (form["key_name"].ToString() is { Length: > 0 } key) server["key_name"] = key;
        if (form["security_group"].ToString() is { Length: > 0 } group) server["security_groups"] = new JsonArray(new JsonObject { ["name"] = group });
        var (status, body) = await SendAsync(HttpMethod.Post, $"{compute}/servers", session.Token, new JsonObject { ["server"] = server });
        await AfterAsync(context, session, status, body, "/instances");
    }
}

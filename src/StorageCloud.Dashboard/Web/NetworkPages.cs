using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Networks (with a subnet, and optionally a router to an external network so the instances on it can take floating
/// IPs) and floating IPs (allocate from an external network, associate with an instance's port, disassociate,
/// release), through the network API with the user's token.
/// </summary>
public sealed partial class DashboardApp
{
    private Task NetworksAsync(HttpContext context, Session session, string path, bool post) =>
        ServicePagesAsync(context, session, path, post, "network", "Networks", api => ListNetworksAsync(context, session, api), async (api, parts) =>
        {
            if (parts.Length == 2)
                await CreateNetworkAsync(context, session, api, await context.Request.ReadFormAsync());
            else if (parts.Length == 4 && Guid.TryParse(parts[2], out var id) && parts[3] == "delete")
            {
                var (status, body) = await SendAsync(HttpMethod.Delete, $"{api}/v2.0/networks/{id}", session.Token);
                await AfterAsync(context, session, status, body, "/networks");
            }
            else await NotFoundAsync(context, session);
        });

    private async Task ListNetworksAsync(HttpContext context, Session session, string api)
    {
        var networks = await GetJsonAsync($"{api}/v2.0/networks", session.Token);
        var subnets = await GetJsonAsync($"{api}/v2.0/subnets", session.Token);
        var cidrs = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var s in subnets?["subnets"] as JsonArray ?? [])
        {
            var network = s!["network_id"]!.ToString();
            if (!cidrs.TryGetValue(network, out var list)) cidrs[network] = list = [];
            list.Add(s["cidr"]?.ToString() ?? "");
        }
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder("<h2>Create a network</h2><form method=\"post\" action=\"/networks\">").Append(csrf)
            .Append("<label>Network name <input name=\"name\" required maxlength=\"255\"></label>")
            .Append("<label>Subnet CIDR <input name=\"cidr\" placeholder=\"10.0.0.0/24\"></label>")
            .Append("<label><input type=\"checkbox\" name=\"route\" value=\"true\"> Route to the external network (for floating IPs)</label>")
            .Append("<button type=\"submit\">Create network</button></form>")
            .Append("<table><thead><tr><th>Name</th><th>Subnets</th><th>Shared</th><th>External</th><th>Status</th><th>Actions</th></tr></thead><tbody>");
        foreach (var n in networks?["networks"] as JsonArray ?? [])
        {
            var id = n!["id"]!.ToString();
            var name = n["name"]?.ToString() is { Length: > 0 } given ? given : id;
            body.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(E(string.Join(", ", cidrs.GetValueOrDefault(id) ?? [])))
                .Append("</td><td>").Append(Flag(n["shared"])).Append("</td><td>").Append(Flag(n["router:external"])).Append("</td><td>").Append(E(n["status"]?.ToString()))
                .Append("</td><td>");
            if (n["project_id"]?.ToString() == session.ProjectId)
                body.Append("<form method=\"post\" action=\"/networks/").Append(E(id)).Append("/delete\" class=\"inline\">").Append(csrf)
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"Delete network {name}")).Append("\">Delete</button></form>");
            body.Append("</td></tr>");
        }
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Networks", body.ToString(), session);
    }

    private static string Flag(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b ? "yes" : "no";

    /// <summary>A network, its subnet when a CIDR is given, and with "route" a router from it to the first external network.</summary>
    private async Task CreateNetworkAsync(HttpContext context, Session session, string api, IFormCollection form)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, $"{api}/v2.0/networks", session.Token,
            new JsonObject { ["network"] = new JsonObject { ["name"] = form["name"].ToString() } });
        if (status != HttpStatusCode.Created || body?["network"]?["id"]?.ToString() is not { } network)
        {
            await AfterAsync(context, session, status, body, "/networks");
            return;
        }
        var cidr = form["cidr"].ToString().Trim();
        if (cidr.Length == 0)
        {
            await AfterAsync(context, session, status, body, "/networks");
            return;
        }
        (status, body) = await SendAsync(HttpMethod.Post, $"{api}/v2.0/subnets", session.Token,
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = network, ["cidr"] = cidr, ["ip_version"] = cidr.Contains(':') ? 6 : 4, ["name"] = $"{form["name"]}-subnet" } });
        if (status != HttpStatusCode.Created || body?["subnet"]?["id"]?.ToString() is not { } subnet || form["route"] != "true")
        {
            await AfterAsync(context, session, status, body, "/networks");
            return;
        }
        var external = (await GetJsonAsync($"{api}/v2.0/networks?router:external=true", session.Token))?["networks"] as JsonArray;
        if (external is not { Count: > 0 })
        {
            await AfterAsync(context, session, HttpStatusCode.Conflict, Error("The network was made, but this cloud has no external network to route it to (an administrator makes one)."), "/networks");
            return;
        }
        (status, body) = await SendAsync(HttpMethod.Post, $"{api}/v2.0/routers", session.Token, new JsonObject
        {
            ["router"] = new JsonObject { ["name"] = $"{form["name"]}-router", ["external_gateway_info"] = new JsonObject { ["network_id"] = external[0]!["id"]!.ToString() } },
        });
        if (status == HttpStatusCode.Created && body?["router"]?["id"]?.ToString() is { } router)
            (status, body) = await SendAsync(HttpMethod.Put, $"{api}/v2.0/routers/{router}/add_router_interface", session.Token, new JsonObject { ["subnet_id"] = subnet });
        await AfterAsync(context, session, status, body, "/networks");
    }

    private Task FloatingIpsAsync(HttpContext context, Session session, string path, bool post) =>
        ServicePagesAsync(context, session, path, post, "network", "Floating IPs", api => ListFloatingIpsAsync(context, session, api),
            (api, parts) => FloatingIpActionAsync(context, session, api, parts));

    private async Task FloatingIpActionAsync(HttpContext context, Session session, string api, string[] parts)
    {
        var form = await context.Request.ReadFormAsync();
        (HttpStatusCode Status, JsonObject? Body) answer;
        if (parts.Length == 2)
            answer = await SendAsync(HttpMethod.Post, $"{api}/v2.0/floatingips", session.Token,
                new JsonObject { ["floatingip"] = new JsonObject { ["floating_network_id"] = form["network"].ToString() } });
        else if (parts.Length == 4 && Guid.TryParse(parts[2], out var id) && parts[3] is "associate" or "disassociate" or "release")
            answer = parts[3] switch
            {
                "release" => await SendAsync(HttpMethod.Delete, $"{api}/v2.0/floatingips/{id}", session.Token),
                "associate" when !Guid.TryParse(form["port"], out _) => (HttpStatusCode.BadRequest, Error("Choose an instance's port.")),
                _ => await SendAsync(HttpMethod.Put, $"{api}/v2.0/floatingips/{id}", session.Token,
                    new JsonObject { ["floatingip"] = new JsonObject { ["port_id"] = parts[3] == "associate" ? form["port"].ToString() : null } }),
            };
        else
        {
            await NotFoundAsync(context, session);
            return;
        }
        await AfterAsync(context, session, answer.Status, answer.Body, "/floating-ips");
    }

    private async Task ListFloatingIpsAsync(HttpContext context, Session session, string api)
    {
        var ips = await GetJsonAsync($"{api}/v2.0/floatingips", session.Token);
        var external = await GetJsonAsync($"{api}/v2.0/networks?router:external=true", session.Token);
        var ports = await GetJsonAsync($"{api}/v2.0/ports?project_id={U(session.ProjectId)}", session.Token);
        var servers = session.Endpoints.TryGetValue("compute", out var compute) ? await GetJsonAsync($"{compute}/servers", session.Token) : null;
        var serverNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in servers?["servers"] as JsonArray ?? []) serverNames[s!["id"]!.ToString()] = s["name"]?.ToString() ?? "";
        // The ports an address can go to: the instances' (named by instance and fixed address).
        var choices = new JsonArray();
        var portLabels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in ports?["ports"] as JsonArray ?? [])
        {
            if (p!["device_owner"]?.ToString()?.StartsWith("compute:", StringComparison.Ordinal) != true) continue;
            var address = (p["fixed_ips"] as JsonArray)?.FirstOrDefault()?["ip_address"]?.ToString() ?? "";
            var label = $"{serverNames.GetValueOrDefault(p["device_id"]?.ToString() ?? "", p["device_id"]?.ToString() ?? "")}: {address}";
            portLabels[p["id"]!.ToString()] = label;
            choices.Add(new JsonObject { ["id"] = p["id"]!.ToString(), ["name"] = label });
        }
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder("<form method=\"post\" action=\"/floating-ips\">").Append(csrf);
        Select(body, "Pool (external network)", "network", external?["networks"] as JsonArray, "id", "name");
        body.Append("<button type=\"submit\">Allocate IP</button></form>")
            .Append("<table><thead><tr><th>Address</th><th>Mapped to</th><th>Status</th><th>Actions</th></tr></thead><tbody>");
        foreach (var f in ips?["floatingips"] as JsonArray ?? [])
        {
            var id = f!["id"]!.ToString();
            var address = f["floating_ip_address"]?.ToString() ?? id;
            var port = f["port_id"]?.ToString();
            var action = $"/floating-ips/{E(id)}";
            body.Append("<tr><td>").Append(E(address)).Append("</td><td>")
                .Append(port is null ? "" : E(portLabels.GetValueOrDefault(port, f["fixed_ip_address"]?.ToString() ?? port))).Append("</td><td>")
                .Append(E(f["status"]?.ToString())).Append("</td><td>");
            if (port is null && choices.Count > 0)
            {
                body.Append("<form method=\"post\" action=\"").Append(action).Append("/associate\" class=\"inline\">").Append(csrf);
                Select(body, $"Associate {address} with", "port", choices, "id", "name");
                body.Append("<button type=\"submit\" aria-label=\"").Append(E($"Associate {address}")).Append("\">Associate</button></form> ");
            }
            else if (port is not null)
                body.Append("<form method=\"post\" action=\"").Append(action).Append("/disassociate\" class=\"inline\">").Append(csrf)
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"Disassociate {address}")).Append("\">Disassociate</button></form> ");
            body.Append("<form method=\"post\" action=\"").Append(action).Append("/release\" class=\"inline\">").Append(csrf)
                .Append("<button type=\"submit\" aria-label=\"").Append(E($"Release {address}")).Append("\">Release</button></form></td></tr>");
        }
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Floating IPs", body.ToString(), session);
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Security groups (create, delete, add and delete ingress rules) through the network API, and key pairs (create:
/// the private key is shown once; import a public key; delete) through the compute API, with the user's token.
/// </summary>
public sealed partial class DashboardApp
{
    private Task SecurityGroupsAsync(HttpContext context, Session session, string path, bool post) =>
        ServicePagesAsync(context, session, path, post, "network", "Security groups", api => ListSecurityGroupsAsync(context, session, api),
            (api, parts) => SecurityGroupActionAsync(context, session, api, parts));

    private async Task SecurityGroupActionAsync(HttpContext context, Session session, string api, string[] parts)
    {
        var form = await context.Request.ReadFormAsync();
        (HttpStatusCode Status, JsonObject? Body) answer;
        if (parts.Length == 2)
            answer = await SendAsync(HttpMethod.Post, $"{api}/v2.0/security-groups", session.Token, new JsonObject
            {
                ["security_group"] = new JsonObject { ["name"] = form["name"].ToString(), ["description"] = form["description"].ToString() },
            });
        else if (parts.Length == 4 && Guid.TryParse(parts[2], out var id) && parts[3] == "delete")
            answer = await SendAsync(HttpMethod.Delete, $"{api}/v2.0/security-groups/{id}", session.Token);
        else if (parts.Length == 4 && Guid.TryParse(parts[2], out id) && parts[3] == "rules")
            answer = RuleOf(form, id) is { } rule
                ? await SendAsync(HttpMethod.Post, $"{api}/v2.0/security-group-rules", session.Token, new JsonObject { ["security_group_rule"] = rule })
                : (HttpStatusCode.BadRequest, Error("A rule's ports are whole numbers from 1 to 65535, the first not above the last."));
        else if (parts.Length == 5 && parts[2] == "rules" && Guid.TryParse(parts[3], out id) && parts[4] == "delete")
            answer = await SendAsync(HttpMethod.Delete, $"{api}/v2.0/security-group-rules/{id}", session.Token);
        else
        {
            await NotFoundAsync(context, session);
            return;
        }
        await AfterAsync(context, session, answer.Status, answer.Body, "/security-groups");
    }

    /// <summary>An ingress rule from the form: protocol (any, tcp, udp, icmp), an optional port range, a remote CIDR.</summary>
    private static JsonObject? RuleOf(IFormCollection form, Guid group)
    {
        var protocol = form["protocol"].ToString() is "tcp" or "udp" or "icmp" ? form["protocol"].ToString() : null;
        var rule = new JsonObject
        {
            ["security_group_id"] = group.ToString(), ["direction"] = "ingress", ["protocol"] = protocol,
            ["remote_ip_prefix"] = form["cidr"].ToString().Trim() is { Length: > 0 } cidr ? cidr : null,
        };
        rule["ethertype"] = rule["remote_ip_prefix"]?.ToString().Contains(':') == true ? "IPv6" : "IPv4";
        var (from, to) = (form["port_min"].ToString(), form["port_max"].ToString());
        if (from.Length == 0 && to.Length == 0 || protocol is null or "icmp") return rule;
        if (!int.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var min)) return null;
        var max = to.Length == 0 ? min : int.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : -1;
        if (min is < 1 or > 65535 || max < min || max > 65535) return null;
        rule["port_range_min"] = min;
        rule["port_range_max"] = max;
        return rule;
    }

    private async Task ListSecurityGroupsAsync(HttpContext context, Session session, string api)
    {
        var groups = await GetJsonAsync($"{api}/v2.0/security-groups?project_id={U(session.ProjectId)}", session.Token);
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder("<form method=\"post\" action=\"/security-groups\">").Append(csrf)
            .Append("<label>Group name <input name=\"name\" required maxlength=\"255\"></label><label>Description <input name=\"description\" maxlength=\"255\"></label>")
            .Append("<button type=\"submit\">Create security group</button></form>");
        foreach (var g in groups?["security_groups"] as JsonArray ?? [])
        {
            var id = g!["id"]!.ToString();
            var name = g["name"]?.ToString() ?? id;
            body.Append("<section><h2>").Append(E(name)).Append("</h2><p>").Append(E(g["description"]?.ToString())).Append("</p>")
                .Append("<table><thead><tr><th>Direction</th><th>Ether type</th><th>Protocol</th><th>Ports</th><th>Remote</th><th></th></tr></thead><tbody>");
            foreach (var r in g["security_group_rules"] as JsonArray ?? [])
            {
                var ports = r!["port_range_min"] is null ? "any" : $"{r["port_range_min"]}-{r["port_range_max"]}";
                var remote = r["remote_ip_prefix"]?.ToString() ?? (r["remote_group_id"] is { } remoteGroup ? $"group {remoteGroup}" : "any");
                body.Append("<tr><td>").Append(E(r["direction"]?.ToString())).Append("</td><td>").Append(E(r["ethertype"]?.ToString())).Append("</td><td>")
                    .Append(E(r["protocol"]?.ToString() ?? "any")).Append("</td><td>").Append(E(ports)).Append("</td><td>").Append(E(remote)).Append("</td><td>")
                    .Append("<form method=\"post\" action=\"/security-groups/rules/").Append(E(r["id"]?.ToString())).Append("/delete\" class=\"inline\">").Append(csrf)
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"Delete rule {r["protocol"] ?? "any"} {ports} from {name}")).Append("\">Delete rule</button></form></td></tr>");
            }
            body.Append("</tbody></table><form method=\"post\" action=\"/security-groups/").Append(E(id)).Append("/rules\">").Append(csrf)
                .Append("<label>Protocol <select name=\"protocol\" aria-label=\"Protocol\"><option value=\"tcp\">TCP</option><option value=\"udp\">UDP</option><option value=\"icmp\">ICMP</option><option value=\"any\">any</option></select></label>")
                .Append("<label>From port <input name=\"port_min\" inputmode=\"numeric\" size=\"6\"></label><label>To port <input name=\"port_max\" inputmode=\"numeric\" size=\"6\"></label>")
                .Append("<label>Remote CIDR <input name=\"cidr\" placeholder=\"0.0.0.0/0\"></label>")
                .Append("<button type=\"submit\" aria-label=\"").Append(E($"Add rule to {name}")).Append("\">Add rule</button></form>");
            if (name != "default")
                body.Append("<form method=\"post\" action=\"/security-groups/").Append(E(id)).Append("/delete\">").Append(csrf)
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"Delete security group {name}")).Append("\">Delete group</button></form>");
            body.Append("</section>");
        }
        await WritePageAsync(context, "Security groups", body.ToString(), session);
    }

    private Task KeyPairsAsync(HttpContext context, Session session, string path, bool post) =>
        ServicePagesAsync(context, session, path, post, "compute", "Key pairs", compute => ListKeyPairsAsync(context, session, compute),
            (compute, parts) => parts.Length == 2 || (parts.Length == 3 && parts[2] == "delete") ? KeyPairActionAsync(context, session, compute, parts.Length == 3) : NotFoundAsync(context, session));

    private async Task ListKeyPairsAsync(HttpContext context, Session session, string compute)
    {
        var pairs = await GetJsonAsync($"{compute}/os-keypairs", session.Token);
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder("<form method=\"post\" action=\"/key-pairs\">").Append(csrf)
            .Append("<label>Key pair name <input name=\"name\" required maxlength=\"255\"></label>")
            .Append("<label>Public key to import (leave empty to have one made) <textarea name=\"public_key\" rows=\"3\" cols=\"40\"></textarea></label>")
            .Append("<button type=\"submit\">Create key pair</button></form>")
            .Append("<table><thead><tr><th>Name</th><th>Fingerprint</th><th></th></tr></thead><tbody>");
        foreach (var item in pairs?["keypairs"] as JsonArray ?? [])
        {
            var k = item!["keypair"]!;
            var pair = k["name"]?.ToString() ?? "";
            body.Append("<tr><td>").Append(E(pair)).Append("</td><td>").Append(E(k["fingerprint"]?.ToString())).Append("</td><td>")
                .Append("<form method=\"post\" action=\"/key-pairs/delete\" class=\"inline\">").Append(csrf)
                .Append("<input type=\"hidden\" name=\"name\" value=\"").Append(E(pair)).Append("\">")
                .Append("<button type=\"submit\" aria-label=\"").Append(E($"Delete key pair {pair}")).Append("\">Delete</button></form></td></tr>");
        }
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Key pairs", body.ToString(), session);
    }

    private async Task KeyPairActionAsync(HttpContext context, Session session, string compute, bool delete)
    {
        var form = await context.Request.ReadFormAsync();
        var name = form["name"].ToString();
        if (delete)
        {
            var (deleted, error) = await SendAsync(HttpMethod.Delete, $"{compute}/os-keypairs/{U(name)}", session.Token);
            await AfterAsync(context, session, deleted, error, "/key-pairs");
            return;
        }
        var keypair = new JsonObject { ["name"] = name };
        if (form["public_key"].ToString().Trim() is { Length: > 0 } key) keypair["public_key"] = key;
        var (status, answer) = await SendAsync(HttpMethod.Post, $"{compute}/os-keypairs", session.Token, new JsonObject { ["keypair"] = keypair });
        if (status is HttpStatusCode.OK or HttpStatusCode.Created && answer?["keypair"]?["private_key"]?.ToString() is { } privateKey)
        {
            await WritePageAsync(context, "Key pair created",
                $"<p role=\"status\">Save the private key of <strong>{E(name)}</strong> now: it is shown only once and kept nowhere.</p>" +
                $"<pre id=\"private-key\">{E(privateKey)}</pre><p><a href=\"/key-pairs\">Back to key pairs</a></p>", session);
            return;
        }
        await AfterAsync(context, session, status, answer, "/key-pairs");
    }
}

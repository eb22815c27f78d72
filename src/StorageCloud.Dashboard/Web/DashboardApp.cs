using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// The dashboard's pages: log in and out, the overview with quota usage, the project switcher; containers and
/// volumes are in their own files. Every POST must carry the session's CSRF token (the login form a pre-session one
/// from its cookie); every answer forbids framing and inline script.
/// </summary>
public sealed partial class DashboardApp(DashboardSettings settings, HttpClient http, ILogger<DashboardApp> logger)
{
    private const string SessionCookie = "sc_session";
    private const string LoginCookie = "sc_login";
    private readonly SessionStore _sessions = new(settings.IdleTimeout);

    /// <summary>Answers one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers["Content-Security-Policy"] = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        var path = context.Request.Path.Value ?? "/";
        var post = HttpMethods.IsPost(context.Request.Method);
        switch (path)
        {
            case "/static/site.css":
                await WriteAsync(context, 200, "text/css; charset=utf-8", Css);
                return;
            case "/static/app.js":
                await WriteAsync(context, 200, "text/javascript; charset=utf-8", Script);
                return;
            case "/favicon.ico":
                context.Response.StatusCode = 404;
                return;
            case "/login":
                await (post ? LoginAsync(context) : LoginPageAsync(context, null));
                return;
        }
        var id = context.Request.Cookies[SessionCookie];
        var session = _sessions.Find(id);
        if (session is null)
        {
            context.Response.Redirect("/login");
            return;
        }
        if (post)
        {
            if (!await CsrfMatchesAsync(context, session, path))
            {
                await WriteAsync(context, 403, "text/html; charset=utf-8", Page("Refused", "<p class=\"error\">The form is stale or did not come from this dashboard (no CSRF token). Reload the page and try again.</p>", session));
                return;
            }
        }
        try
        {
            await RouteAsync(context, session, id!, path, post);
        }
        catch (HttpRequestException e)
        {
            logger.LogWarning("dashboard request {Path} failed: {Message}", path, e.Message);
            await WriteAsync(context, 502, "text/html; charset=utf-8", Page("Unavailable", $"<p class=\"error\">A service did not answer: {E(e.Message)}</p>", session));
        }
    }

    private Task RouteAsync(HttpContext context, Session session, string id, string path, bool post)
    {
        if (path == "/" && !post) return OverviewAsync(context, session);
        if (path == "/logout" && post) return LogoutAsync(context, session, id);
        if (path == "/projects") return post ? SwitchProjectAsync(context, session) : ProjectsAsync(context, session);
        if (path == "/volumes" || path.StartsWith("/volumes/", StringComparison.Ordinal)) return VolumesAsync(context, session, path, post);
        if (path == "/instances" || path.StartsWith("/instances/", StringComparison.Ordinal)) return InstancesAsync(context, session, path, post);
        if (path == "/images" || path.StartsWith("/images/", StringComparison.Ordinal)) return ImagesAsync(context, session, path, post);
        if (path == "/networks" || path.StartsWith("/networks/", StringComparison.Ordinal)) return NetworksAsync(context, session, path, post);
        if (path == "/floating-ips" || path.StartsWith("/floating-ips/", StringComparison.Ordinal)) return FloatingIpsAsync(context, session, path, post);
        if (path == "/security-groups" || path.StartsWith("/security-groups/", StringComparison.Ordinal)) return SecurityGroupsAsync(context, session, path, post);
        if (path == "/key-pairs" || path.StartsWith("/key-pairs/", StringComparison.Ordinal)) return KeyPairsAsync(context, session, path, post);
        if (path == "/admin" || path.StartsWith("/admin/", StringComparison.Ordinal)) return AdminAsync(context, session, path, post);
        if (path == "/containers" || path.StartsWith("/containers/", StringComparison.Ordinal)) return ContainersAsync(context, session, path, post);
        return WriteAsync(context, 404, "text/html; charset=utf-8", Page("Not found", "<p>There is no such page.</p>", session));
    }

    private static Task NotFoundAsync(HttpContext context, Session session) =>
        WritePageAsync(context, "Not found", "<p>There is no such page.</p>", session, 404);

    /// <summary>
    /// One service's pages: a note when the token's catalog has no such service, the list on a GET of the page
    /// itself, 404 for other GETs, and <paramref name="act"/> for POSTs (given the service's URL and the path's
    /// segments; it answers 404 for what it does not know).
    /// </summary>
    private async Task ServicePagesAsync(HttpContext context, Session session, string path, bool post, string type, string title,
        Func<string, Task> list, Func<string, string[], Task> act)
    {
        if (!session.Endpoints.TryGetValue(type, out var api))
        {
            await WritePageAsync(context, title, $"<p>This cloud has no {E(type)} service.</p>", session);
            return;
        }
        var parts = path.Split('/');
        if (post) await act(api, parts);
        else if (parts.Length == 2) await list(api);
        else await NotFoundAsync(context, session);
    }

    internal static async Task WriteAsync(HttpContext context, int status, string type, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes);
    }

    internal static Task WritePageAsync(HttpContext context, string title, string body, Session? session, int status = 200) =>
        WriteAsync(context, status, "text/html; charset=utf-8", Page(title, body, session));

    /// <summary>The form's csrf field matches the session's.</summary>
    private static async Task<bool> CsrfMatchesAsync(HttpContext context, Session session, string path)
    {
        // Only uploads take multipart forms, and UploadAsync checks their token (the form's first field) before it stores anything.
        if (context.Request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true) return path.EndsWith("/upload", StringComparison.Ordinal);
        if (!context.Request.HasFormContentType) return false;
        var form = await context.Request.ReadFormAsync();
        return SessionStore.SameToken(form["csrf"].ToString(), session.Csrf);
    }

    private CookieOptions CookieOptions(bool expire = false) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = settings.SecureCookies, Path = "/",
        Expires = expire ? DateTimeOffset.UnixEpoch : null,
    };

    private Task LoginPageAsync(HttpContext context, string? error, int status = 200)
    {
        // Login CSRF: the form's token must equal this cookie's (double submit), so another site cannot log a browser in.
        // One token per browser until it logs in: a second login page (another tab, a redirected favicon request)
        // must not invalidate the form already shown.
        var token = context.Request.Cookies[LoginCookie] is { Length: 64 } existing && existing.All(char.IsAsciiHexDigitLower)
            ? existing
            : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        context.Response.Cookies.Append(LoginCookie, token, CookieOptions());
        var body = (error is null ? "" : $"<p class=\"error\" role=\"alert\">{E(error)}</p>") +
            "<form method=\"post\" action=\"/login\">" + CsrfField(token) +
            "<label>Domain <input name=\"domain\" value=\"Default\" autocomplete=\"off\" required></label>" +
            "<label>User name <input name=\"username\" autocomplete=\"username\" required></label>" +
            "<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>" +
            "<label>Project (optional) <input name=\"project\"></label>" +
            "<button type=\"submit\">Log in</button></form>";
        return WritePageAsync(context, "Log in", body, null, status);
    }

    private async Task LoginAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await LoginPageAsync(context, "Log in with the form.", 400);
            return;
        }
        var form = await context.Request.ReadFormAsync();
        if (!SessionStore.SameToken(form["csrf"].ToString(), context.Request.Cookies[LoginCookie] ?? "\0"))
        {
            await LoginPageAsync(context, "The login form was stale; please log in again.", 403);
            return;
        }
        var (domain, user, password, project) = (form["domain"].ToString(), form["username"].ToString(), form["password"].ToString(), form["project"].ToString());
        var session = await AuthenticateAsync(domain, user, password, project.Length > 0 ? project : null);
        if (session is null)
        {
            await LoginPageAsync(context, "The user name, password or project is not right.", 401);
            return;
        }
        var id = _sessions.Add(session);
        context.Response.Cookies.Append(SessionCookie, id, CookieOptions());
        context.Response.Cookies.Append(LoginCookie, "", CookieOptions(expire: true));
        context.Response.Redirect("/", permanent: false);
        context.Response.StatusCode = 303;
    }

    /// <summary>A password login scoped to the project asked for (or the user's first project): the session, or null when refused.</summary>
    private async Task<Session?> AuthenticateAsync(string domain, string user, string password, string? project)
    {
        var identity = new JsonObject
        {
            ["methods"] = new JsonArray("password"),
            ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["name"] = domain }, ["password"] = password } },
        };
        var auth = new JsonObject { ["identity"] = identity };
        if (project is not null) auth["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = project, ["domain"] = new JsonObject { ["name"] = domain } } };
        var (token, body) = await IssueAsync(auth);
        if (token is null || body is null) return null;
        if (project is null)
        {
            // Unscoped: pick the user's first project, as Horizon does.
            var projects = await ProjectsOfAsync(token);
            if (projects.Count == 0) return null;
            (token, body) = await IssueAsync(new JsonObject
            {
                ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = token } },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["id"] = projects[0].Id } },
            });
            if (token is null || body is null) return null;
        }
        return SessionOf(token, body, domain);
    }

    private static Session SessionOf(string token, JsonObject body, string domain)
    {
        var t = body["token"]!;
        var endpoints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in t["catalog"] as JsonArray ?? [])
            foreach (var endpoint in service!["endpoints"] as JsonArray ?? [])
                if (endpoint!["interface"]?.ToString() == "public") endpoints[service["type"]!.ToString()] = endpoint["url"]!.ToString().TrimEnd('/');
        return new Session
        {
            Token = token, UserName = t["user"]!["name"]!.ToString(), UserId = t["user"]!["id"]!.ToString(), Domain = domain,
            ProjectId = t["project"]!["id"]!.ToString(), ProjectName = t["project"]!["name"]!.ToString(), Endpoints = endpoints,
            IsAdmin = (t["roles"] as JsonArray ?? []).Any(role => role?["name"]?.ToString() == "admin"),
        };
    }

    private async Task<(string? Token, JsonObject? Body)> IssueAsync(JsonObject auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Identity}/v3/auth/tokens")
        {
            Content = new StringContent(new JsonObject { ["auth"] = auth }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode || !response.Headers.TryGetValues("X-Subject-Token", out var values)) return (null, null);
        return (values.First(), JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject);
    }

    private string Identity => settings.IdentityUrl ?? throw new HttpRequestException("no identity service is configured (Dashboard:IdentityUrl)");

    private async Task<List<(string Id, string Name)>> ProjectsOfAsync(string token)
    {
        var answer = await GetJsonAsync($"{Identity}/v3/auth/projects", token);
        var list = new List<(string, string)>();
        foreach (var p in answer?["projects"] as JsonArray ?? []) list.Add((p!["id"]!.ToString(), p["name"]!.ToString()));
        return list;
    }

    /// <summary>GET with the user's token; null on 404, the JSON otherwise (an error status throws).</summary>
    internal async Task<JsonObject?> GetJsonAsync(string url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-Auth-Token", token);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{request.RequestUri!.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode}");
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? new JsonObject { ["items"] = JsonNode.Parse(text) };
    }

    /// <summary>Sends with the user's token; returns the status (and the JSON body, when there is one).</summary>
    internal async Task<(HttpStatusCode Status, JsonObject? Body)> SendAsync(HttpMethod method, string url, string token, JsonObject? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Auth-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonObject? parsed = null;
        try
        {
            if (text.StartsWith('{')) parsed = JsonNode.Parse(text) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            parsed = null;
        }
        return (response.StatusCode, parsed);
    }

    internal HttpClient Http => http;

    private async Task LogoutAsync(HttpContext context, Session session, string id)
    {
        // The token is revoked, not only forgotten: a copy of it is worth nothing after logout.
        using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"{Identity}/v3/auth/tokens");
        revoke.Headers.Add("X-Auth-Token", session.Token);
        revoke.Headers.Add("X-Subject-Token", session.Token);
        using (await http.SendAsync(revoke))
        {
        }
        _sessions.Remove(id);
        context.Response.Cookies.Append(SessionCookie, "", CookieOptions(expire: true));
        context.Response.Redirect("/login");
        context.Response.StatusCode = 303;
    }

    private async Task OverviewAsync(HttpContext context, Session session)
    {
        var body = new StringBuilder();
        body.Append("<p>Project <strong>").Append(E(session.ProjectName)).Append("</strong>, user <strong>").Append(E(session.UserName)).Append("</strong>.</p>");
        if (session.Endpoints.TryGetValue("compute", out var compute) && await GetJsonAsync($"{compute}/limits", session.Token) is { } limits)
        {
            var a = limits["limits"]!["absolute"]!;
            body.Append("<h2>Compute</h2>")
                .Append(Meter("Instances", Num(a["totalInstancesUsed"]), Num(a["maxTotalInstances"]), ""))
                .Append(Meter("vCPUs", Num(a["totalCoresUsed"]), Num(a["maxTotalCores"]), ""))
                .Append(Meter("RAM", Num(a["totalRAMUsed"]), Num(a["maxTotalRAMSize"]), "MiB"));
        }
        if (session.Endpoints.TryGetValue("volumev3", out var volume) && await GetJsonAsync($"{volume}/limits", session.Token) is { } volumeLimits)
        {
            var a = volumeLimits["limits"]!["absolute"]!;
            body.Append("<h2>Volumes</h2>")
                .Append(Meter("Volumes", Num(a["totalVolumesUsed"]), Num(a["maxTotalVolumes"]), ""))
                .Append(Meter("Volume storage", Num(a["totalGigabytesUsed"]), Num(a["maxTotalVolumeGigabytes"]), "GiB"))
                .Append(Meter("Snapshots", Num(a["totalSnapshotsUsed"]), Num(a["maxTotalSnapshots"]), ""));
        }
        if (session.Endpoints.TryGetValue("object-store", out var objects))
        {
            using var head = new HttpRequestMessage(HttpMethod.Head, objects);
            head.Headers.Add("X-Auth-Token", session.Token);
            using var account = await http.SendAsync(head);
            if (account.IsSuccessStatusCode)
            {
                double Header(string name) => account.Headers.TryGetValues(name, out var v) && double.TryParse(v.First(), System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
                var quota = Header("X-Account-Meta-Quota-Bytes");
                body.Append("<h2>Object store</h2>")
                    .Append(Meter("Containers", Header("X-Account-Container-Count"), -1, ""))
                    .Append(Meter("Objects", Header("X-Account-Object-Count"), -1, ""))
                    .Append(Meter("Bytes stored", Header("X-Account-Bytes-Used") / (1 << 20), quota > 0 ? quota / (1 << 20) : -1, "MiB"));
            }
        }
        await WritePageAsync(context, "Overview", body.ToString(), session);
    }

    private static double Num(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : 0;

    private async Task ProjectsAsync(HttpContext context, Session session)
    {
        var body = new StringBuilder("<form method=\"post\" action=\"/projects\">").Append(CsrfField(session.Csrf))
            .Append("<label>Switch to project <select name=\"project\" aria-label=\"Switch to project\">");
        foreach (var (id, name) in await ProjectsOfAsync(session.Token))
            body.Append("<option value=\"").Append(E(id)).Append('"').Append(id == session.ProjectId ? " selected" : "").Append('>').Append(E(name)).Append("</option>");
        body.Append("</select></label><button type=\"submit\">Switch</button></form>");
        await WritePageAsync(context, "Projects", body.ToString(), session);
    }

    private async Task SwitchProjectAsync(HttpContext context, Session session)
    {
        var form = await context.Request.ReadFormAsync();
        var (token, body) = await IssueAsync(new JsonObject
        {
            ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = session.Token } },
            ["scope"] = new JsonObject { ["project"] = new JsonObject { ["id"] = form["project"].ToString() } },
        });
        if (token is null || body is null)
        {
            await WritePageAsync(context, "Projects", "<p class=\"error\">You are not a member of that project.</p>", session, 403);
            return;
        }
        var scoped = SessionOf(token, body, session.Domain);
        (session.Token, session.ProjectId, session.ProjectName, session.Endpoints, session.IsAdmin) = (scoped.Token, scoped.ProjectId, scoped.ProjectName, scoped.Endpoints, scoped.IsAdmin);
        context.Response.Redirect("/");
        context.Response.StatusCode = 303;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace StorageCloud.Host.Tests;

/// <summary>
/// The dashboard over real HTTP on the all-in-one appliance, as a browser uses it (cookies, forms): log in against
/// the identity service, the overview's quota meters, containers and objects (upload streamed through a multipart
/// form, download), volumes; and its security: CSRF tokens on every form (login included), an HttpOnly SameSite
/// session cookie that never holds the token, HTML in names escaped, another project's things never shown, logout
/// revoking the token.
/// </summary>
public sealed partial class DashboardTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    [GeneratedRegex("name=\"csrf\" value=\"([0-9a-f]+)\"")]
    private static partial Regex CsrfField();

    /// <summary>A browser: its own cookies, no automatic redirects (the test reads each 303).</summary>
    private HttpClient Browser() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true })
    {
        BaseAddress = new Uri(cloud.DashboardUrl),
    };

    private static async Task<(HttpStatusCode Status, string Html)> GetAsync(HttpClient browser, string path)
    {
        using var response = await browser.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Csrf(string html) => CsrfField().Match(html).Groups[1].Value;

    private static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string path, params (string Name, string Value)[] fields) =>
        await browser.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))));

    private static async Task<(HttpClient Browser, string Csrf)> LogInAsync(HttpClient browser, string user, string password, string project)
    {
        var (_, form) = await GetAsync(browser, "/login");
        using var login = await PostAsync(browser, "/login", ("csrf", Csrf(form)), ("domain", "Default"), ("username", user), ("password", password), ("project", project));
        Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("sc_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var (status, overview) = await GetAsync(browser, "/");
        Assert.Equal(HttpStatusCode.OK, status);
        return (browser, Csrf(overview));
    }

    [Fact]
    public async Task A_user_logs_in_browses_uploads_downloads_and_makes_volumes_and_nothing_leaks()
    {
        using var browser = Browser();
        // Logging in: not without the login form's token, not with a wrong password.
        var (_, loginForm) = await GetAsync(browser, "/login");
        using (var forged = await PostAsync(browser, "/login", ("csrf", new string('0', 64)), ("domain", "Default"), ("username", "cinder-a-user"), ("password", "pw-cinder-a")))
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        (_, loginForm) = await GetAsync(browser, "/login");
        using (var wrong = await PostAsync(browser, "/login", ("csrf", Csrf(loginForm)), ("domain", "Default"), ("username", "cinder-a-user"), ("password", "nope")))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (var anonymous = await browser.GetAsync("/containers")) Assert.Equal("/login", anonymous.Headers.Location!.OriginalString);

        var (_, csrf) = await LogInAsync(browser, "cinder-a-user", "pw-cinder-a", "cinder-a");
        var (_, overview) = await GetAsync(browser, "/");
        Assert.Contains("<meter", overview);
        Assert.Contains("Instances", overview);
        Assert.Contains("Volume storage", overview);
        var (token, _) = cloud.A;
        Assert.DoesNotContain(token, overview);

        // A container whose name is HTML: made, listed escaped. A form without the session's token is refused.
        const string container = "box<script>x";
        using (var noToken = await PostAsync(browser, "/containers", ("name", "other")))
            Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
        using (var made = await PostAsync(browser, "/containers", ("csrf", csrf), ("name", container)))
            Assert.Equal(HttpStatusCode.SeeOther, made.StatusCode);
        var (_, containers) = await GetAsync(browser, "/containers");
        Assert.Contains("box&lt;script&gt;x", containers);
        Assert.DoesNotContain("box<script>", containers);

        // Upload through the multipart form (the token first), then download the same bytes as an attachment.
        var data = new byte[300_000];
        Random.Shared.NextBytes(data);
        var page = $"/containers/{Uri.EscapeDataString(container)}";
        async Task<HttpResponseMessage> UploadAsync(string fileName, bool tokenFirst)
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(data);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            if (tokenFirst) form.Add(new StringContent(csrf), "csrf");
            form.Add(new StringContent("docs/"), "prefix");
            form.Add(file, "file", fileName);
            if (!tokenFirst) form.Add(new StringContent(csrf), "csrf");
            return await browser.PostAsync(page + "/upload", form);
        }
        using (var late = await UploadAsync("late.bin", tokenFirst: false)) Assert.Equal(HttpStatusCode.Forbidden, late.StatusCode);
        using (var uploaded = await UploadAsync("<img src=x>.bin", tokenFirst: true)) Assert.Equal(HttpStatusCode.SeeOther, uploaded.StatusCode);
        var (_, root) = await GetAsync(browser, page);
        Assert.Contains("docs/", root);
        var (_, folder) = await GetAsync(browser, page + "?prefix=docs%2F");
        Assert.Contains("docs/&lt;img src=x&gt;.bin", folder);
        Assert.DoesNotContain("<img src=x>", folder);
        Assert.DoesNotContain("late.bin", folder);
        using (var download = await browser.GetAsync(page + "/object/" + Uri.EscapeDataString("docs/<img src=x>.bin")))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.MediaType);
            Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Equal(data, await download.Content.ReadAsByteArrayAsync());
        }

        // An object's details: its metadata (HTML, set through the Swift API) shown escaped.
        var (token0, _) = cloud.A;
        using (var meta = new HttpRequestMessage(HttpMethod.Post, $"{cloud.ProxyUrl}/v1/AUTH_{cloud.A.Project}/{Uri.EscapeDataString(container)}/docs/{Uri.EscapeDataString("<img src=x>.bin")}"))
        {
            meta.Headers.Add("X-Auth-Token", token0);
            meta.Headers.Add("X-Object-Meta-Note", "<script>alert(1)</script>");
            using var set = await cloud.Http.SendAsync(meta);
            Assert.Equal(HttpStatusCode.Accepted, set.StatusCode);
        }
        var (infoStatus, info) = await GetAsync(browser, page + "/info/" + Uri.EscapeDataString("docs/<img src=x>.bin"));
        Assert.Equal(HttpStatusCode.OK, infoStatus);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", info);
        Assert.DoesNotContain("<script>alert", info);
        Assert.Contains("<td>300000</td>", info);

        // A volume, made and listed.
        using (var volume = await PostAsync(browser, "/volumes", ("csrf", csrf), ("name", "dash-vol"), ("size", "1")))
            Assert.Equal(HttpStatusCode.SeeOther, volume.StatusCode);
        var (_, volumes) = await GetAsync(browser, "/volumes");
        Assert.Contains("dash-vol", volumes);

        // Images and instances: the image is listed, an instance launched from it on a network, stopped, its console read.
        var image = await cloud.ImageAsync(token, new byte[4096], "dash-image");
        var (_, network) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token, new JsonObject { ["network"] = new JsonObject { ["name"] = "dash-net" } });
        var networkId = network!["network"]!["id"]!.GetValue<string>();
        await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/subnets", token,
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = networkId, ["cidr"] = "10.88.0.0/24", ["ip_version"] = 4 } });
        Assert.Contains("dash-image", (await GetAsync(browser, "/images")).Html);
        var (_, launchPage) = await GetAsync(browser, "/instances");
        Assert.Contains($"<option value=\"{image}\">dash-image</option>", launchPage);
        using (var launched = await PostAsync(browser, "/instances", ("csrf", csrf), ("name", "dash-vm"), ("flavor", "1"), ("image", image), ("network", networkId)))
            Assert.Equal(HttpStatusCode.SeeOther, launched.StatusCode);
        string instances = "";
        for (var i = 0; i < 100 && !(instances = (await GetAsync(browser, "/instances")).Html).Contains("<td>ACTIVE</td>"); i++) await Task.Delay(100);
        Assert.Contains("dash-vm", instances);
        Assert.Contains("dash-net: 10.88.0.", instances);
        var (_, listedServers) = await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, "/v2.1/servers?name=dash-vm", token);
        var serverId = listedServers!["servers"]![0]!["id"]!.GetValue<string>();
        using (var stop = await PostAsync(browser, $"/instances/{serverId}/stop", ("csrf", csrf))) Assert.Equal(HttpStatusCode.SeeOther, stop.StatusCode);
        using (var stopAgain = await PostAsync(browser, $"/instances/{serverId}/stop", ("csrf", csrf))) Assert.Equal(HttpStatusCode.Conflict, stopAgain.StatusCode);
        Assert.Contains("login:", (await GetAsync(browser, $"/instances/{serverId}/console")).Html);

        // Another project's user sees none of it, even at its address.
        using (var other = Browser())
        {
            await LogInAsync(other, "cinder-b-user", "pw-cinder-b", "cinder-b");
            var (_, theirs) = await GetAsync(other, "/containers");
            Assert.DoesNotContain("box&lt;script&gt;", theirs);
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(other, page)).Status);
            Assert.DoesNotContain("dash-vol", (await GetAsync(other, "/volumes")).Html);
            Assert.DoesNotContain("dash-vm", (await GetAsync(other, "/instances")).Html);
        }

        // Logout revokes the token at the identity service (its DELETE /v3/auth/tokens answered 204) and ends the session.
        static double Revocations(string metrics) => metrics.Split('\n')
            .Where(l => l.StartsWith("storagecloud_http_requests_total{service=\"identity\",method=\"DELETE\",status=\"204\"} ", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).FirstOrDefault();
        var before = Revocations(await cloud.Http.GetStringAsync($"http://127.0.0.1:{cloud.IdentityPort}/metrics"));
        using (var logout = await PostAsync(browser, "/logout", ("csrf", csrf))) Assert.Equal(HttpStatusCode.SeeOther, logout.StatusCode);
        Assert.Equal(before + 1, Revocations(await cloud.Http.GetStringAsync($"http://127.0.0.1:{cloud.IdentityPort}/metrics")));
        using (var after = await browser.GetAsync("/containers")) Assert.Equal("/login", after.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Pages_forbid_framing_and_inline_script()
    {
        using var browser = Browser();
        using var response = await browser.GetAsync("/login");
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<label>User name <input name=\"username\"", html);
        Assert.DoesNotContain("<script>", html);
    }
}

using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>
/// Debian's `openstack` CLI (python3-openstackclient), `swift` with v3 auth and `aws` against the all-in-one
/// appliance's identity service, sourced from the openrc the appliance writes.
/// </summary>
public sealed class OpenStackCliTests(AioFixture aio) : IClassFixture<AioFixture>
{
    private const string OpenStack = "/usr/bin/openstack";
    private const string Aws = "/usr/bin/aws";

    /// <summary>The variables of the generated openrc, optionally with some replaced.</summary>
    private Dictionary<string, string> OpenRc(params (string Key, string Value)[] overrides)
    {
        var env = new Dictionary<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(aio.DataDir, "openrc")))
        {
            if (!line.StartsWith("export ", StringComparison.Ordinal)) continue;
            var eq = line.IndexOf('=');
            env[line["export ".Length..eq]] = line[(eq + 1)..];
        }
        foreach (var (k, v) in overrides) env[k] = v;
        return env;
    }

    private async Task<string> Os(Dictionary<string, string> env, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync(OpenStack, args, env, aio.Root);
        Assert.True(exit == 0, $"openstack {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    private async Task<(int Exit, string Output)> OsFails(Dictionary<string, string> env, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync(OpenStack, args, env, aio.Root);
        Assert.True(exit != 0, $"openstack {string.Join(' ', args)} should fail: {stdout}");
        return (exit, stdout + stderr);
    }

    private static JsonNode Json(string text) => JsonNode.Parse(text)!;

    private static string[] Column(string json, string field) =>
        Json(json).AsArray().Select(x => x![field]!.GetValue<string>()).Order().ToArray();

    [Fact]
    public async Task The_openrc_works_and_the_admin_manages_identity_with_the_openstack_cli()
    {
        var admin = OpenRc();
        Assert.Equal("3", admin["OS_IDENTITY_API_VERSION"]);
        Assert.Equal("RegionOne", admin["OS_REGION_NAME"]);
        var token = Json(await Os(admin, "token", "issue", "-f", "json"));
        Assert.Equal(32, token["project_id"]!.GetValue<string>().Length);
        var catalog = await Os(admin, "catalog", "list", "-f", "json");
        // The catalog lists the services that run, and only those.
        Assert.Equal(["cinder", "cinderv3", "ec2", "glance", "keystone", "neutron", "nova", "s3", "swift"], Column(catalog, "Name"));
        Assert.Contains("object-store", Column(await Os(admin, "service", "list", "-f", "json"), "Type"));
        Assert.Contains(Json(await Os(admin, "endpoint", "list", "-f", "json")).AsArray(),
            e => e!["Service Type"]!.GetValue<string>() == "identity" && e["URL"]!.GetValue<string>() == admin["OS_AUTH_URL"]);
        Assert.Equal(["Default"], Column(await Os(admin, "domain", "list", "-f", "json"), "Name"));

        var project = Json(await Os(admin, "project", "create", "--description", "compat", "cliproj", "-f", "json"));
        Assert.Equal("compat", project["description"]!.GetValue<string>());
        Assert.Contains("cliproj", Column(await Os(admin, "project", "list", "-f", "json"), "Name"));
        await Os(admin, "project", "set", "--description", "changed", "cliproj");
        Assert.Equal("changed", Json(await Os(admin, "project", "show", "cliproj", "-f", "json"))["description"]!.GetValue<string>());

        await Os(admin, "user", "create", "--password", "first", "--project", "cliproj", "cliuser");
        Assert.Contains("cliuser", Column(await Os(admin, "user", "list", "-f", "json"), "Name"));
        await Os(admin, "user", "set", "--password", "second", "cliuser");
        await Os(admin, "role", "add", "--project", "cliproj", "--user", "cliuser", "member");
        var assignments = Json(await Os(admin, "role", "assignment", "list", "--names", "--project", "cliproj", "-f", "json")).AsArray();
        var row = Assert.Single(assignments);
        Assert.Equal("member", row!["Role"]!.GetValue<string>());
        Assert.Equal("cliuser@Default", row["User"]!.GetValue<string>());
        Assert.Equal("cliproj@Default", row["Project"]!.GetValue<string>());

        var user = OpenRc(("OS_USERNAME", "cliuser"), ("OS_PASSWORD", "second"), ("OS_PROJECT_NAME", "cliproj"));
        Assert.Equal(project["id"]!.GetValue<string>(), Json(await Os(user, "token", "issue", "-f", "json"))["project_id"]!.GetValue<string>());
        await OsFails(OpenRc(("OS_USERNAME", "cliuser"), ("OS_PASSWORD", "first"), ("OS_PROJECT_NAME", "cliproj")), "token", "issue");

        await Os(admin, "group", "create", "cligroup");
        await Os(admin, "group", "add", "user", "cligroup", "cliuser");
        Assert.Contains("user in group", await Os(admin, "group", "contains", "user", "cligroup", "cliuser"));

        var ec2 = Json(await Os(admin, "ec2", "credentials", "create", "-f", "json"));
        var access = ec2["access"]!.GetValue<string>();
        Assert.Contains(access, Column(await Os(admin, "ec2", "credentials", "list", "-f", "json"), "Access"));
        await Os(admin, "ec2", "credentials", "delete", access);
        Assert.DoesNotContain(access, Column(await Os(admin, "ec2", "credentials", "list", "-f", "json"), "Access"));

        await Os(admin, "role", "remove", "--project", "cliproj", "--user", "cliuser", "member");
        Assert.Empty(Json(await Os(admin, "role", "assignment", "list", "--project", "cliproj", "-f", "json")).AsArray());
        await OsFails(user, "token", "issue");
        await Os(admin, "user", "delete", "cliuser");
        await Os(admin, "project", "delete", "cliproj");
        Assert.DoesNotContain("cliproj", Column(await Os(admin, "project", "list", "-f", "json"), "Name"));
    }

    [Fact]
    public async Task Objects_go_through_the_proxy_with_identity_tokens_from_openstack_and_swift()
    {
        var admin = OpenRc();
        await Os(admin, "container", "create", "oscont");
        var file = Path.Combine(aio.Root, "hello.txt");
        await File.WriteAllTextAsync(file, "hello from openstack");
        var work = aio.Root;
        await Os(admin, "object", "create", "oscont", "hello.txt");
        Assert.Equal(["hello.txt"], Column(await Os(admin, "object", "list", "oscont", "-f", "json"), "Name"));
        var saved = Path.Combine(work, "saved.txt");
        await Os(admin, "object", "save", "--file", saved, "oscont", "hello.txt");
        Assert.Equal("hello from openstack", await File.ReadAllTextAsync(saved));
        await Os(admin, "object", "delete", "oscont", "hello.txt");
        Assert.Empty(Json(await Os(admin, "object", "list", "oscont", "-f", "json")).AsArray());

        string[] v3 =
        [
            "--os-auth-url", admin["OS_AUTH_URL"], "--auth-version", "3", "--os-username", "admin", "--os-password", admin["OS_PASSWORD"],
            "--os-project-name", "admin", "--os-user-domain-name", "Default", "--os-project-domain-name", "Default",
        ];
        var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", [.. v3, "upload", "v3cont", "hello.txt"], new Dictionary<string, string>(), work);
        Assert.True(exit == 0, $"swift upload: {stdout} {stderr}");
        (exit, stdout, stderr) = await CliRunner.RunAsync("swift", [.. v3, "download", "v3cont", "hello.txt", "-o", "-"], new Dictionary<string, string>(), work);
        Assert.True(exit == 0, $"swift download: {stderr}");
        Assert.Equal("hello from openstack", stdout);
        (exit, stdout, _) = await CliRunner.RunAsync("swift", [.. v3, "stat"], new Dictionary<string, string>(), work);
        Assert.Contains("Account: AUTH_" + Json(await Os(admin, "token", "issue", "-f", "json"))["project_id"]!.GetValue<string>(), stdout);
    }

    [Fact]
    public async Task Aws_lists_buckets_with_keys_from_openstack_ec2_credentials()
    {
        var admin = OpenRc();
        await Os(admin, "container", "create", "s3listed");
        var ec2 = Json(await Os(admin, "ec2", "credentials", "create", "-f", "json"));
        var env = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = ec2["access"]!.GetValue<string>(),
            ["AWS_SECRET_ACCESS_KEY"] = ec2["secret"]!.GetValue<string>(),
            ["AWS_DEFAULT_REGION"] = "RegionOne",
            ["AWS_CONFIG_FILE"] = "/dev/null",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
        };
        var (exit, stdout, stderr) = await CliRunner.RunAsync(Aws, ["--endpoint-url", aio.Url, "s3", "ls"], env, aio.Root);
        Assert.True(exit == 0, $"aws s3 ls: {stdout} {stderr}");
        Assert.Contains(" s3listed", stdout);

        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
        (exit, _, stderr) = await CliRunner.RunAsync(Aws, ["--endpoint-url", aio.Url, "s3", "ls"], env, aio.Root);
        Assert.NotEqual(0, exit);
        Assert.Contains("SignatureDoesNotMatch", stderr);
    }

    [Fact]
    public async Task A_member_cannot_reach_another_projects_account_or_list_its_projects_and_revoked_tokens_get_401()
    {
        var admin = OpenRc();
        var a = Json(await Os(admin, "project", "create", "isoA", "-f", "json"))["id"]!.GetValue<string>();
        var b = Json(await Os(admin, "project", "create", "isoB", "-f", "json"))["id"]!.GetValue<string>();
        await Os(admin, "user", "create", "--password", "isopw", "isouser");
        await Os(admin, "role", "add", "--project", "isoA", "--user", "isouser", "member");
        var member = OpenRc(("OS_USERNAME", "isouser"), ("OS_PASSWORD", "isopw"), ("OS_PROJECT_NAME", "isoA"));
        var token = Json(await Os(member, "token", "issue", "-f", "json"))["id"]!.GetValue<string>();

        using var http = new HttpClient();
        async Task<HttpStatusCode> Head(string account, string tok)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"{aio.Url}/v1/{account}");
            request.Headers.Add("X-Auth-Token", tok);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await Head("AUTH_" + a, token));
        Assert.Equal(HttpStatusCode.Forbidden, await Head("AUTH_" + b, token));
        var (_, output) = await OsFails(member, "project", "show", "isoB");
        Assert.Contains("403", output);
        Assert.DoesNotContain("isoB", await Os(member, "project", "list", "-f", "value"));

        await Os(member, "token", "revoke", token);
        Assert.Equal(HttpStatusCode.Unauthorized, await Head("AUTH_" + a, token));
    }
}

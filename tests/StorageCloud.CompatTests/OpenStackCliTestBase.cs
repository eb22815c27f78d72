using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>What the OpenStack CLI workflow tests share: the openrc environment of a user, running `openstack` (which must
/// succeed, or must fail) and projects with a member user of their own.</summary>
public abstract class OpenStackCliTestBase(AioFixture aio)
{
    /// <summary>The appliance under test.</summary>
    protected AioFixture Aio => aio;

    protected const string OpenStack = "/usr/bin/openstack";

    protected Dictionary<string, string> Env(string? user = null, string? project = null, string password = "secret-pass")
    {
        var env = Aio.OpenRc();
        if (user is not null)
        {
            env["OS_USERNAME"] = user;
            env["OS_PASSWORD"] = password;
            env["OS_PROJECT_NAME"] = project!;
        }
        env["PATH"] = "/usr/bin:/bin";
        return env;
    }

    protected async Task<string> Os(Dictionary<string, string> env, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync(OpenStack, args, env, Aio.Root);
        Assert.True(exit == 0, $"openstack {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    protected async Task<string> OsFails(Dictionary<string, string> env, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync(OpenStack, args, env, Aio.Root);
        Assert.True(exit != 0, $"openstack {string.Join(' ', args)} should fail: {stdout}");
        return stdout + stderr;
    }

    protected async Task<JsonNode> OsJson(Dictionary<string, string> env, params string[] args) => JsonNode.Parse(await Os(env, [.. args, "-f", "json"]))!;

    protected static string Id(JsonNode node) => node["id"]!.GetValue<string>();

    /// <summary>A project with a member user of its own.</summary>
    protected async Task<Dictionary<string, string>> ProjectWithMemberAsync(string name)
    {
        var admin = Env();
        await Os(admin, "project", "create", "--domain", "Default", name);
        await Os(admin, "user", "create", "--domain", "Default", "--password", "secret-pass", name + "-user");
        await Os(admin, "role", "add", "--user", name + "-user", "--project", name, "member");
        return Env(name + "-user", name);
    }

    /// <summary>Runs qemu-io commands on a volume's NBD export; fails on any pattern mismatch.</summary>
    protected async Task QemuIo(string volume, params string[] commands)
    {
        var args = new List<string> { "-f", "raw" };
        foreach (var c in commands) args.AddRange(["-c", c]);
        args.Add($"nbd://127.0.0.1:{Aio.NbdPort}/{volume}");
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/qemu-io", args, new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Aio.Root);
        Assert.True(exit == 0, $"qemu-io {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        Assert.DoesNotContain("Pattern verification failed", stdout + stderr);
        Assert.DoesNotContain("error", stdout + stderr, StringComparison.OrdinalIgnoreCase);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace StorageCloud.Host.Tests;

/// <summary>
/// The dashboard's pages beyond objects and instances, over real HTTP as a browser posts them: volume transfers
/// (accepted in another project with the key shown once), backups and restores, attaching volumes, networks with a
/// route out, floating IPs, security groups, key pairs, image upload (a hostile file refused), and the cluster pages
/// that only administrators see.
/// </summary>
public sealed partial class DashboardTests
{
    [GeneratedRegex("<output id=\"transfer-id\">([0-9a-f-]+)</output>.*<output id=\"auth-key\">([0-9a-f]+)</output>", RegexOptions.Singleline)]
    private static partial Regex TransferValues();

    private async Task<string> VolumeIdAsync(string token, string project, string name)
    {
        var (_, listed) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{project}/volumes?name={Uri.EscapeDataString(name)}", token);
        return listed!["volumes"]!.AsArray().Single()!["id"]!.GetValue<string>();
    }

    private async Task<string> VolumeStatusAsync(string token, string project, string id, params string[] wanted)
    {
        var status = "";
        for (var i = 0; i < 300; i++)
        {
            var (_, shown) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{project}/volumes/{id}", token);
            status = shown?["volume"]?["status"]?.GetValue<string>() ?? "";
            if (wanted.Contains(status)) return status;
            await Task.Delay(100);
        }
        return status;
    }

    private static async Task<HttpStatusCode> PostStatusAsync(HttpClient browser, string path, params (string Name, string Value)[] fields)
    {
        using var response = await PostAsync(browser, path, fields);
        return response.StatusCode;
    }

    [Fact]
    public async Task Volumes_are_transferred_to_another_project_backed_up_restored_and_attached_through_the_pages()
    {
        using var a = Browser();
        using var b = Browser();
        var (_, csrfA) = await LogInAsync(a, "cinder-a-user", "pw-cinder-a", "cinder-a");
        var (_, csrfB) = await LogInAsync(b, "cinder-b-user", "pw-cinder-b", "cinder-b");
        var (tokenA, projectA) = cloud.A;
        var (tokenB, projectB) = cloud.B;

        // Transfer: the id and key are shown once; a wrong key is refused; the right one moves the volume to B.
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, "/volumes", ("csrf", csrfA), ("name", "xfer-vol"), ("size", "1")));
        var volume = await VolumeIdAsync(tokenA, projectA, "xfer-vol");
        Assert.Equal("available", await VolumeStatusAsync(tokenA, projectA, volume, "available"));
        using var offer = await PostAsync(a, $"/volumes/{volume}/transfer", ("csrf", csrfA), ("name", "to-b"));
        Assert.Equal(HttpStatusCode.OK, offer.StatusCode);
        var values = TransferValues().Match(await offer.Content.ReadAsStringAsync());
        Assert.True(values.Success);
        var (transferId, key) = (values.Groups[1].Value, values.Groups[2].Value);
        var pageA = (await GetAsync(a, "/volumes")).Html;
        Assert.Contains(transferId, pageA);
        Assert.DoesNotContain(key, pageA);
        Assert.Equal(HttpStatusCode.BadRequest, await PostStatusAsync(b, "/volumes/accept", ("csrf", csrfB), ("transfer_id", transferId), ("auth_key", "0000")));
        Assert.Equal(HttpStatusCode.BadRequest, await PostStatusAsync(b, "/volumes/accept", ("csrf", csrfB), ("transfer_id", "not-a-uuid"), ("auth_key", key)));
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, "/volumes/accept", ("csrf", csrfB), ("transfer_id", transferId), ("auth_key", key)));
        Assert.Contains("xfer-vol", (await GetAsync(b, "/volumes")).Html);
        Assert.DoesNotContain("xfer-vol", (await GetAsync(a, "/volumes")).Html);
        Assert.Equal(volume, await VolumeIdAsync(tokenB, projectB, "xfer-vol"));

        // Backup and restore: the backup is listed (with its progress while it runs), then restored into a new volume.
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, $"/volumes/{volume}/backup", ("csrf", csrfB), ("name", "xfer-backup")));
        var page = "";
        for (var i = 0; i < 300 && !Regex.IsMatch(page = (await GetAsync(b, "/volumes")).Html, "xfer-backup</td><td>available"); i++) await Task.Delay(100);
        Assert.Matches("xfer-backup</td><td>available", page);
        var (_, backups) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{projectB}/backups", tokenB);
        var backup = backups!["backups"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "xfer-backup")!["id"]!.GetValue<string>();
        Assert.DoesNotContain("xfer-backup", (await GetAsync(a, "/volumes")).Html);
        Assert.Equal(HttpStatusCode.NotFound, await PostStatusAsync(a, $"/volumes/backups/{backup}/restore", ("csrf", csrfA)));
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, $"/volumes/backups/{backup}/restore", ("csrf", csrfB)));
        var (_, restored) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{projectB}/volumes/detail", tokenB);
        var restoredId = restored!["volumes"]!.AsArray().Single(v => v!["id"]!.GetValue<string>() != volume)!["id"]!.GetValue<string>();
        Assert.Equal("available", await VolumeStatusAsync(tokenB, projectB, restoredId, "available", "error"));

        // Attach to an instance and detach, through the compute service.
        var image = await cloud.ImageAsync(tokenB, new byte[4096], "attach-image");
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, "/instances", ("csrf", csrfB), ("name", "attach-vm"), ("flavor", "1"), ("image", image), ("network", "")));
        var (_, servers) = await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, "/v2.1/servers?name=attach-vm", tokenB);
        var server = servers!["servers"]![0]!["id"]!.GetValue<string>();
        for (var i = 0; i < 100 && !(await GetAsync(b, "/instances")).Html.Contains("<td>ACTIVE</td>"); i++) await Task.Delay(100);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, $"/volumes/{volume}/attach", ("csrf", csrfB), ("server", server)));
        Assert.Equal("in-use", await VolumeStatusAsync(tokenB, projectB, volume, "in-use", "error"));
        Assert.Matches("xfer-vol</td><td>in-use</td><td>1</td><td>attach-vm</td>", (await GetAsync(b, "/volumes")).Html);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, $"/volumes/{volume}/detach", ("csrf", csrfB), ("server", server)));
        Assert.Equal("available", await VolumeStatusAsync(tokenB, projectB, volume, "available", "error"));
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, $"/volumes/backups/{backup}/delete", ("csrf", csrfB)));

        // Launch from a bootable volume (made from the image): the launch form offers it, the instance boots from it.
        var (_, made) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{projectB}/volumes", tokenB,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["name"] = "boot-vol", ["imageRef"] = image } });
        var bootVolume = made!["volume"]!["id"]!.GetValue<string>();
        Assert.Equal("available", await VolumeStatusAsync(tokenB, projectB, bootVolume, "available", "error"));
        Assert.Contains($"<option value=\"{bootVolume}\">boot-vol</option>", (await GetAsync(b, "/instances")).Html);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(b, "/instances", ("csrf", csrfB), ("name", "volume-vm"), ("flavor", "1"), ("image", ""),
            ("volume", bootVolume), ("network", "")));
        Assert.Equal("in-use", await VolumeStatusAsync(tokenB, projectB, bootVolume, "in-use", "error"));
        var (_, booted) = await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, "/v2.1/servers/detail?name=volume-vm", tokenB);
        Assert.Equal("", booted!["servers"]![0]!["image"]!.ToString());
    }

    [Fact]
    public async Task Networks_floating_ips_security_groups_and_key_pairs_are_made_through_the_pages_and_stay_in_their_project()
    {
        using var a = Browser();
        var (_, csrf) = await LogInAsync(a, "cinder-a-user", "pw-cinder-a", "cinder-a");
        var (token, _) = cloud.A;
        var (_, external) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", cloud.Admin.Token,
            new JsonObject { ["network"] = new JsonObject { ["name"] = "dash-public", ["router:external"] = true } });
        var externalId = external!["network"]!["id"]!.GetValue<string>();
        await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/subnets", cloud.Admin.Token,
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = externalId, ["cidr"] = "172.31.9.0/24", ["ip_version"] = 4 } });

        // A network with a subnet and a router out to the external network.
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, "/networks", ("csrf", csrf), ("name", "routed-net"), ("cidr", "10.77.0.0/24"), ("route", "true")));
        var networks = (await GetAsync(a, "/networks")).Html;
        Assert.Contains("<td>routed-net</td><td>10.77.0.0/24</td>", networks);
        Assert.True(networks.Contains("<td>dash-public</td>"), networks);
        Assert.Matches("<td>dash-public</td><td>[^<]*</td><td>no</td><td>yes</td>", networks);
        Assert.Equal(HttpStatusCode.BadRequest, await PostStatusAsync(a, "/networks", ("csrf", csrf), ("name", "bad-net"), ("cidr", "10.77.0.0/99")));

        // Key pair: made here, its private key shown once; a security group with a rule.
        using (var made = await PostAsync(a, "/key-pairs", ("csrf", csrf), ("name", "dash-key"), ("public_key", "")))
        {
            Assert.Equal(HttpStatusCode.OK, made.StatusCode);
            Assert.Contains("PRIVATE KEY-----", await made.Content.ReadAsStringAsync());
        }
        var keys = (await GetAsync(a, "/key-pairs")).Html;
        Assert.Contains("<td>dash-key</td>", keys);
        Assert.DoesNotContain("PRIVATE KEY", keys);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, "/security-groups", ("csrf", csrf), ("name", "web<b>"), ("description", "http in")));
        var groups = (await GetAsync(a, "/security-groups")).Html;
        Assert.Contains("web&lt;b&gt;", groups);
        Assert.DoesNotContain("web<b>", groups);
        var group = Regex.Match(groups, "action=\"/security-groups/([0-9a-f-]+)/rules\"[^>]*>(?:(?!</form>).)*aria-label=\"Add rule to web&lt;b&gt;\"", RegexOptions.Singleline).Groups[1].Value;
        Assert.NotEmpty(group);
        Assert.Equal(HttpStatusCode.BadRequest, await PostStatusAsync(a, $"/security-groups/{group}/rules", ("csrf", csrf), ("protocol", "tcp"), ("port_min", "99999"), ("port_max", ""), ("cidr", "")));
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, $"/security-groups/{group}/rules", ("csrf", csrf), ("protocol", "tcp"), ("port_min", "80"), ("port_max", "81"), ("cidr", "0.0.0.0/0")));
        Assert.Contains("<td>tcp</td><td>80-81</td><td>0.0.0.0/0</td>", (await GetAsync(a, "/security-groups")).Html);

        // An instance on the routed network with the key and group; a floating IP allocated and associated with it.
        var image = await cloud.ImageAsync(token, new byte[4096], "fip-image");
        var (_, routed) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, "/v2.0/networks?name=routed-net", token);
        var routedId = routed!["networks"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, "/instances", ("csrf", csrf), ("name", "fip-vm"), ("flavor", "1"), ("image", image),
            ("network", routedId), ("key_name", "dash-key"), ("security_group", "web<b>")));
        var (_, servers) = await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, "/v2.1/servers/detail?name=fip-vm", token);
        Assert.Equal("dash-key", servers!["servers"]![0]!["key_name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, "/floating-ips", ("csrf", csrf), ("network", externalId)));
        var fips = (await GetAsync(a, "/floating-ips")).Html;
        var address = Regex.Match(fips, "<td>(172\\.31\\.9\\.\\d+)</td>").Groups[1].Value;
        Assert.NotEmpty(address);
        var (_, listed) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, "/v2.0/floatingips", token);
        var fip = listed!["floatingips"]!.AsArray().Single()!["id"]!.GetValue<string>();
        var port = Regex.Match(fips, "<option value=\"([0-9a-f-]+)\">fip-vm: 10\\.77\\.0\\.\\d+</option>").Groups[1].Value;
        Assert.NotEmpty(port);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, $"/floating-ips/{fip}/associate", ("csrf", csrf), ("port", port)));
        Assert.Matches($"<td>{Regex.Escape(address)}</td><td>fip-vm: 10\\.77\\.0\\.\\d+</td>", (await GetAsync(a, "/floating-ips")).Html);
        JsonNode? shown = null;
        for (var i = 0; i < 100 && shown?["servers"]?[0]?["status"]?.GetValue<string>() != "ACTIVE"; i++)
        {
            await Task.Delay(100);
            (_, shown) = await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, "/v2.1/servers/detail?name=fip-vm", token);
        }
        Assert.Contains(address, shown!["servers"]![0]!["addresses"]!.ToJsonString());

        // Another project sees none of it.
        using (var b = Browser())
        {
            await LogInAsync(b, "cinder-b-user", "pw-cinder-b", "cinder-b");
            Assert.DoesNotContain("routed-net", (await GetAsync(b, "/networks")).Html);
            Assert.DoesNotContain(address, (await GetAsync(b, "/floating-ips")).Html);
            Assert.DoesNotContain("web&lt;b&gt;", (await GetAsync(b, "/security-groups")).Html);
            Assert.DoesNotContain("dash-key", (await GetAsync(b, "/key-pairs")).Html);
            Assert.Equal(HttpStatusCode.NotFound, await PostStatusAsync(b, $"/floating-ips/{fip}/release", ("csrf", Csrf((await GetAsync(b, "/floating-ips")).Html))));
        }

        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, $"/floating-ips/{fip}/disassociate", ("csrf", csrf)));
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, $"/floating-ips/{fip}/release", ("csrf", csrf)));
        Assert.DoesNotContain(address, (await GetAsync(a, "/floating-ips")).Html);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, "/key-pairs/delete", ("csrf", csrf), ("name", "dash-key")));
        Assert.DoesNotContain("<td>dash-key</td>", (await GetAsync(a, "/key-pairs")).Html);
    }

    [Fact]
    public async Task Images_are_uploaded_through_the_page_and_a_file_that_is_not_its_format_is_refused()
    {
        using var a = Browser();
        var (_, csrf) = await LogInAsync(a, "cinder-a-user", "pw-cinder-a", "cinder-a");
        async Task<HttpResponseMessage> UploadAsync(string name, string format, byte[] data)
        {
            var form = new MultipartFormDataContent
            {
                { new StringContent(csrf), "csrf" }, { new StringContent(name), "name" }, { new StringContent(format), "disk_format" },
                { new StringContent("private"), "visibility" },
            };
            var file = new ByteArrayContent(data);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", "disk.img");
            return await a.PostAsync("/images/upload", form);
        }
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);
        using (var uploaded = await UploadAsync("<i>raw</i>", "raw", data)) Assert.Equal(HttpStatusCode.SeeOther, uploaded.StatusCode);
        var images = (await GetAsync(a, "/images")).Html;
        Assert.Contains("<td>&lt;i&gt;raw&lt;/i&gt;</td><td>active</td><td>raw</td><td>1048576</td>", images);
        Assert.DoesNotContain("<i>raw</i>", images);
        var (token, _) = cloud.A;
        var (_, listed) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, "/v2/images?name=" + Uri.EscapeDataString("<i>raw</i>"), token);
        var id = listed!["images"]![0]!["id"]!.GetValue<string>();
        using (var download = new HttpRequestMessage(HttpMethod.Get, $"{cloud.ImageUrl}/v2/images/{id}/file"))
        {
            download.Headers.Add("X-Auth-Token", token);
            using var response = await cloud.Http.SendAsync(download);
            Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
        }

        // Random bytes called qcow2: the image service's inspector refuses them; the page says so and no image is active.
        using (var hostile = await UploadAsync("fake-qcow2", "qcow2", data))
        {
            Assert.Equal(HttpStatusCode.BadRequest, hostile.StatusCode);
            Assert.Contains("refused", await hostile.Content.ReadAsStringAsync());
        }
        Assert.Contains("<td>fake-qcow2</td><td>killed</td>", (await GetAsync(a, "/images")).Html);

        // Without the form's token first nothing is made.
        var late = new MultipartFormDataContent { { new StringContent("late"), "name" }, { new ByteArrayContent(data), "file", "x.img" }, { new StringContent(csrf), "csrf" } };
        using (var refused = await a.PostAsync("/images/upload", late)) Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("<td>late</td>", (await GetAsync(a, "/images")).Html);
        // A form padded with fields before its file is refused before anything is made.
        var padded = new MultipartFormDataContent { { new StringContent(csrf), "csrf" }, { new StringContent("padded"), "name" } };
        for (var i = 0; i < 40; i++) padded.Add(new StringContent("x"), $"pad{i}");
        padded.Add(new ByteArrayContent(data), "file", "x.img");
        using (var refused = await a.PostAsync("/images/upload", padded)) Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.DoesNotContain("<td>padded</td>", (await GetAsync(a, "/images")).Html);
        Assert.Equal(HttpStatusCode.SeeOther, await PostStatusAsync(a, $"/images/{id}/delete", ("csrf", csrf)));
    }

    [Fact]
    public async Task Cluster_pages_draw_rings_recon_and_dispersion_for_administrators_only()
    {
        using (var member = Browser())
        {
            await LogInAsync(member, "cinder-a-user", "pw-cinder-a", "cinder-a");
            Assert.DoesNotContain("href=\"/admin\"", (await GetAsync(member, "/")).Html);
            Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(member, "/admin")).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(member, "/admin/recon")).Status);
        }
        using var admin = Browser();
        var password = (await File.ReadAllTextAsync(Path.Combine(cloud.DataDir, "identity", "admin-password"))).Trim();
        var (_, csrf) = await LogInAsync(admin, "admin", password, "admin");
        Assert.Contains("href=\"/admin\"", (await GetAsync(admin, "/")).Html);

        var rings = (await GetAsync(admin, "/admin")).Html;
        foreach (var ring in new[] { "account", "container", "object" })
        {
            Assert.Contains($"<h2>{ring} ring</h2>", rings);
            Assert.Contains($"{ring}: partitions per device", rings);
        }
        Assert.Contains("<svg", rings);
        Assert.Matches("<rect x=\"170\" y=\"\\d+\" width=\"[0-9.]+\" height=\"20\"", rings);

        var recon = (await GetAsync(admin, "/admin/recon")).Html;
        Assert.Matches("(\\d+) storage servers, \\1 answered", recon);
        Assert.Contains("Disk usage per device", recon);
        Assert.Contains("Async pendings", recon);

        using (var populated = await PostAsync(admin, "/admin/dispersion/populate", ("csrf", csrf), ("coverage", "2")))
        {
            Assert.Equal(HttpStatusCode.OK, populated.StatusCode);
            Assert.Matches("Placed \\d+ sample containers and \\d+ sample objects", await populated.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.BadRequest, await PostStatusAsync(admin, "/admin/dispersion/populate", ("csrf", csrf), ("coverage", "500")));
        using var report = await PostAsync(admin, "/admin/dispersion/report", ("csrf", csrf));
        var html = await report.Content.ReadAsStringAsync();
        Assert.Contains("Copies found where the rings say", html);
        Assert.Contains("100.00% of object copies found", html);
        Assert.Contains("100.00% of container copies found", html);
    }
}

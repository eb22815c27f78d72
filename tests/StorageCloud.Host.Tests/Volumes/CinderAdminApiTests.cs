using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Volumes;

/// <summary>
/// The Cinder v3 API's operator side over real HTTP on the all-in-one appliance: private volume types and their
/// project access, the scheduler's capability filter and the user message it leaves, QoS specs, type encryption
/// (recorded, and no volume made that would claim it), services and hosts, and list paging.
/// </summary>
public sealed class CinderAdminApiTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private string Admin(string path) => $"/v3/{cloud.Admin.Project}{path}";

    private async Task<string> CreateTypeAsync(string name, JsonObject? extraSpecs = null, bool isPublic = true)
    {
        var type = new JsonObject { ["name"] = name, ["os-volume-type-access:is_public"] = isPublic };
        if (extraSpecs is not null) type["extra_specs"] = extraSpecs;
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, Admin("/types"), cloud.Admin.Token, new JsonObject { ["volume_type"] = type });
        Assert.Equal(HttpStatusCode.OK, status);
        return body!["volume_type"]!["id"]!.GetValue<string>();
    }

    private Task<(HttpStatusCode Status, JsonNode? Body)> CreateVolumeAsync((string Token, string Project) who, string type, string? version = null) =>
        cloud.SendAsync(HttpMethod.Post, $"/v3/{who.Project}/volumes", who.Token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["name"] = "typed", ["volume_type"] = type } }, version);

    private Task<(HttpStatusCode Status, JsonNode? Body)> TypeActionAsync(string type, string action, string project) =>
        cloud.SendAsync(HttpMethod.Post, Admin($"/types/{type}/action"), cloud.Admin.Token, new JsonObject { [action] = new JsonObject { ["project"] = project } });

    [Fact]
    public async Task A_private_type_serves_only_the_projects_given_access()
    {
        var type = await CreateTypeAsync("private-gold", isPublic: false);
        Assert.Equal(HttpStatusCode.NotFound, (await CreateVolumeAsync(cloud.A, type)).Status);
        var (_, listed) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/types", cloud.A.Token);
        Assert.DoesNotContain(listed!["volume_types"]!.AsArray(), t => t!["id"]!.GetValue<string>() == type);

        Assert.Equal(HttpStatusCode.Accepted, (await TypeActionAsync(type, "addProjectAccess", cloud.A.Project)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await TypeActionAsync(type, "addProjectAccess", cloud.A.Project)).Status);
        var (created, volume) = await CreateVolumeAsync(cloud.A, type);
        Assert.Equal(HttpStatusCode.Accepted, created);
        Assert.Equal("private-gold", volume!["volume"]!["volume_type"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await CreateVolumeAsync(cloud.B, type)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.B.Project}/types/{type}", cloud.B.Token)).Status);

        var (_, access) = await cloud.SendAsync(HttpMethod.Get, Admin($"/types/{type}/os-volume-type-access"), cloud.Admin.Token);
        var entry = Assert.Single(access!["volume_type_access"]!.AsArray());
        Assert.Equal(cloud.A.Project, entry!["project_id"]!.GetValue<string>());
        Assert.Equal(type, entry["volume_type_id"]!.GetValue<string>());
        // Only admins manage access; a public type has no access list to change.
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{cloud.A.Project}/types/{type}/action", cloud.A.Token,
            new JsonObject { ["addProjectAccess"] = new JsonObject { ["project"] = cloud.B.Project } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await TypeActionAsync(await CreateTypeAsync("public-silver"), "addProjectAccess", cloud.A.Project)).Status);

        Assert.Equal(HttpStatusCode.Accepted, (await TypeActionAsync(type, "removeProjectAccess", cloud.A.Project)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await TypeActionAsync(type, "removeProjectAccess", cloud.A.Project)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await CreateVolumeAsync(cloud.A, type)).Status);
    }

    [Fact]
    public async Task A_type_asking_for_another_backend_makes_an_error_volume_and_a_message_only_its_project_reads()
    {
        var elsewhere = await CreateTypeAsync("other-vendor", new JsonObject { ["vendor_name"] = "SomeoneElse", ["spec"] = "free" });
        var (status, body) = await CreateVolumeAsync(cloud.A, elsewhere, "3.3");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var volume = body!["volume"]!["id"]!.GetValue<string>();
        Assert.Equal("error", body["volume"]!["status"]!.GetValue<string>());

        var (_, messages) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/messages", cloud.A.Token, version: "3.3");
        var message = Assert.Single(messages!["messages"]!.AsArray(), m => m!["resource_uuid"]!.GetValue<string>() == volume)!;
        Assert.Equal("VOLUME", message["resource_type"]!.GetValue<string>());
        Assert.Contains("vendor_name=SomeoneElse", message["user_message"]!.GetValue<string>());
        var id = message["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.B.Project}/messages/{id}", cloud.B.Token, version: "3.3")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/messages", cloud.A.Token, version: "3.2")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{cloud.A.Project}/messages/{id}", cloud.A.Token, version: "3.3")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/messages/{id}", cloud.A.Token, version: "3.3")).Status);
        // The error volume is deletable as Cinder's are.
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{cloud.A.Project}/volumes/{volume}", cloud.A.Token)).Status);

        // Specs this backend satisfies (the capabilities its pool reports) schedule as usual.
        var (_, pools) = await cloud.SendAsync(HttpMethod.Get, Admin("/scheduler-stats/get_pools?detail=true"), cloud.Admin.Token);
        var capabilities = pools!["pools"]![0]!["capabilities"]!;
        var here = await CreateTypeAsync("this-vendor", new JsonObject
        {
            ["vendor_name"] = capabilities["vendor_name"]!.GetValue<string>(),
            ["capabilities:storage_protocol"] = "<in> " + capabilities["storage_protocol"]!.GetValue<string>(),
        });
        var (_, good) = await CreateVolumeAsync(cloud.A, here);
        Assert.Equal("available", good!["volume"]!["status"]!.GetValue<string>());
        var (_, shown) = await cloud.SendAsync(HttpMethod.Get, Admin($"/capabilities/{Uri.EscapeDataString(pools["pools"]![0]!["name"]!.GetValue<string>())}"), cloud.Admin.Token);
        Assert.Equal(capabilities["vendor_name"]!.GetValue<string>(), shown!["vendor_name"]!.GetValue<string>());
        Assert.StartsWith("OS::Storage::Capabilities::", shown["namespace"]!.GetValue<string>());
    }

    [Fact]
    public async Task Qos_specs_are_created_changed_associated_and_deleted_by_admins_only()
    {
        var spec = new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = "fast", ["consumer"] = "front-end", ["read_iops_sec"] = "2000" } };
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{cloud.A.Project}/qos-specs", cloud.A.Token, spec)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, Admin("/qos-specs"), cloud.Admin.Token,
            new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = "bad", ["consumer"] = "sideways" } })).Status);
        var (status, created) = await cloud.SendAsync(HttpMethod.Post, Admin("/qos-specs"), cloud.Admin.Token, spec);
        Assert.Equal(HttpStatusCode.OK, status);
        var qos = created!["qos_specs"]!;
        var id = qos["id"]!.GetValue<string>();
        Assert.Equal("2000", qos["specs"]!["read_iops_sec"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await cloud.SendAsync(HttpMethod.Post, Admin("/qos-specs"), cloud.Admin.Token, spec)).Status);

        var (_, set) = await cloud.SendAsync(HttpMethod.Put, Admin($"/qos-specs/{id}"), cloud.Admin.Token, new JsonObject { ["qos_specs"] = new JsonObject { ["write_iops_sec"] = "500" } });
        Assert.Equal("""{"qos_specs":{"write_iops_sec":"500"}}""", set!.ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Put, Admin($"/qos-specs/{id}/delete_keys"), cloud.Admin.Token,
            new JsonObject { ["keys"] = new JsonArray("read_iops_sec") })).Status);
        var (_, shown) = await cloud.SendAsync(HttpMethod.Get, Admin($"/qos-specs/{id}"), cloud.Admin.Token);
        Assert.Equal("""{"write_iops_sec":"500"}""", shown!["qos_specs"]!["specs"]!.ToJsonString());

        var type = await CreateTypeAsync("with-qos");
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Get, Admin($"/qos-specs/{id}/associate?vol_type_id={type}"), cloud.Admin.Token)).Status);
        var (_, associations) = await cloud.SendAsync(HttpMethod.Get, Admin($"/qos-specs/{id}/associations"), cloud.Admin.Token);
        Assert.Equal(type, Assert.Single(associations!["qos_associations"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Delete, Admin($"/qos-specs/{id}"), cloud.Admin.Token)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Get, Admin($"/qos-specs/{id}/disassociate_all"), cloud.Admin.Token)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, Admin($"/qos-specs/{id}"), cloud.Admin.Token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, Admin($"/qos-specs/{id}"), cloud.Admin.Token)).Status);
    }

    [Fact]
    public async Task An_encrypted_type_is_recorded_but_no_volume_claims_encryption_it_does_not_have()
    {
        var type = await CreateTypeAsync("luks");
        var encryption = new JsonObject { ["encryption"] = new JsonObject { ["provider"] = "luks", ["cipher"] = "aes-xts-plain64", ["key_size"] = 256, ["control_location"] = "front-end" } };
        var (status, created) = await cloud.SendAsync(HttpMethod.Post, Admin($"/types/{type}/encryption"), cloud.Admin.Token, encryption);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(256, created!["encryption"]!["key_size"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, Admin($"/types/{type}/encryption"), cloud.Admin.Token, encryption)).Status);

        var (refused, error) = await CreateVolumeAsync(cloud.Admin, type);
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Contains("encrypted", error!["badRequest"]!["message"]!.GetValue<string>());
        var (_, volumes) = await cloud.SendAsync(HttpMethod.Get, Admin("/volumes/detail"), cloud.Admin.Token);
        Assert.DoesNotContain(volumes!["volumes"]!.AsArray(), v => v!["volume_type"]!.GetValue<string>() == "luks");

        var (_, cipher) = await cloud.SendAsync(HttpMethod.Get, Admin($"/types/{type}/encryption/cipher"), cloud.Admin.Token);
        Assert.Equal("aes-xts-plain64", cipher!["cipher"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, Admin($"/types/{type}/encryption/provider"), cloud.Admin.Token)).Status);
        var (_, gone) = await cloud.SendAsync(HttpMethod.Get, Admin($"/types/{type}/encryption"), cloud.Admin.Token);
        Assert.Equal("{}", gone!.ToJsonString());
    }

    [Fact]
    public async Task Services_are_disabled_with_a_reason_enabled_frozen_and_thawed()
    {
        var (_, listed) = await cloud.SendAsync(HttpMethod.Get, Admin("/os-services?binary=cinder-volume"), cloud.Admin.Token);
        var host = Assert.Single(listed!["services"]!.AsArray())!["host"]!.GetValue<string>();
        var service = new JsonObject { ["host"] = host, ["binary"] = "cinder-volume" };
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/disable-log-reason"), cloud.Admin.Token, service)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/disable"), cloud.Admin.Token,
            new JsonObject { ["host"] = host, ["binary"] = "cinder-nothing" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendAsync(HttpMethod.Put, $"/v3/{cloud.A.Project}/os-services/disable", cloud.A.Token, service)).Status);

        var withReason = (JsonObject)service.DeepClone();
        withReason["disabled_reason"] = "disk swap";
        var (status, disabled) = await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/disable-log-reason"), cloud.Admin.Token, withReason);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(disabled!["disabled"]!.GetValue<bool>());
        (_, listed) = await cloud.SendAsync(HttpMethod.Get, Admin("/os-services?binary=cinder-volume"), cloud.Admin.Token);
        Assert.Equal("disabled", listed!["services"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("disk swap", listed["services"]![0]!["disabled_reason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/enable"), cloud.Admin.Token, service)).Status);
        (_, listed) = await cloud.SendAsync(HttpMethod.Get, Admin("/os-services?binary=cinder-volume"), cloud.Admin.Token);
        Assert.Equal("enabled", listed!["services"]![0]!["status"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/freeze"), cloud.Admin.Token, new JsonObject { ["host"] = "nowhere" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/freeze"), cloud.Admin.Token, new JsonObject { ["host"] = host })).Status);
        (_, listed) = await cloud.SendAsync(HttpMethod.Get, Admin("/os-services?binary=cinder-volume"), cloud.Admin.Token);
        Assert.True(listed!["services"]![0]!["frozen"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Put, Admin("/os-services/thaw"), cloud.Admin.Token, new JsonObject { ["host"] = host })).Status);

        var (_, details) = await cloud.SendAsync(HttpMethod.Get, Admin($"/os-hosts/{Uri.EscapeDataString(host)}"), cloud.Admin.Token);
        Assert.Equal("(total)", details!["host"]![0]!["resource"]!["project"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, Admin("/os-hosts/nowhere"), cloud.Admin.Token)).Status);
    }

    [Fact]
    public async Task Lists_page_by_marker_and_offset_and_an_empty_id_names_nothing()
    {
        var b = cloud.B;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (_, created) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{b.Project}/volumes", b.Token,
                new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["name"] = $"page-{i}" } });
            ids.Add(created!["volume"]!["id"]!.GetValue<string>());
        }
        var (_, all) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/volumes?sort=name:asc", b.Token);
        Assert.Equal(["page-0", "page-1", "page-2"], all!["volumes"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()));
        var (_, offset) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/volumes?sort=name:asc&offset=1&limit=1", b.Token);
        Assert.Equal("page-1", Assert.Single(offset!["volumes"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.DoesNotContain("offset", offset["volumes_links"]![0]!["href"]!.GetValue<string>());
        var (_, after) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/volumes?sort=name:asc&marker={ids[0]}&offset=1", b.Token);
        Assert.Equal("page-2", Assert.Single(after!["volumes"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/volumes?offset=-1", b.Token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/volumes?marker={Guid.NewGuid()}", b.Token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/snapshots?marker={Guid.NewGuid()}", b.Token)).Status);
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete })
            Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(method, $"/v3/{b.Project}/volumes/", b.Token, new JsonObject { ["volume"] = new JsonObject { ["name"] = "n" } })).Status);
        Assert.Equal(3, all["volumes"]!.AsArray().Count);
        foreach (var id in ids) Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{b.Project}/volumes/{id}", b.Token)).Status);
    }
}

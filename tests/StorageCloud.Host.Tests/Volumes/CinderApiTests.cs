using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests.Volumes;

/// <summary>
/// The Cinder v3 API over real HTTP on the all-in-one appliance: version discovery and microversions, tenants kept
/// apart (another project's volumes answer 404), admin-only actions, quotas (413 with Cinder's body), bad input
/// (Cinder's 400/404 bodies, nothing half-created), and attachments whose connection info is a working NBD export.
/// </summary>
public sealed class CinderApiTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private static JsonObject Volume(object size, string name = "v", string? type = null)
    {
        var volume = new JsonObject { ["size"] = JsonValue.Create(size), ["name"] = name };
        if (type is not null) volume["volume_type"] = type;
        return new JsonObject { ["volume"] = volume };
    }

    private async Task<string> CreateAsync((string Token, string Project) who, string name, int size = 1)
    {
        var (status, body) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{who.Project}/volumes", who.Token, Volume(size, name));
        Assert.Equal(HttpStatusCode.Accepted, status);
        return body!["volume"]!["id"]!.GetValue<string>();
    }

    private async Task<int> CountAsync((string Token, string Project) who)
    {
        var (status, body) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{who.Project}/volumes", who.Token);
        Assert.Equal(HttpStatusCode.OK, status);
        return body!["volumes"]!.AsArray().Count;
    }

    private static void AssertFault(JsonNode? body, string fault, int code, string? containing = null)
    {
        Assert.NotNull(body?[fault]);
        Assert.Equal(code, body![fault]!["code"]!.GetValue<int>());
        if (containing is not null) Assert.Contains(containing, body[fault]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Versions_are_discoverable_without_a_token_and_microversions_are_negotiated()
    {
        var (status, root) = await cloud.SendAsync(HttpMethod.Get, "/", null);
        Assert.Equal(HttpStatusCode.MultipleChoices, status);
        var version = root!["versions"]![0]!;
        Assert.Equal("v3.0", version["id"]!.GetValue<string>());
        Assert.Equal("3.60", version["version"]!.GetValue<string>());
        Assert.Equal("3.0", version["min_version"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Get, "/v3/", null)).Status);

        var (unauthorized, _) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/volumes", null);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized);
        var (tooNew, fault) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/volumes", cloud.A.Token, version: "3.99");
        Assert.Equal(HttpStatusCode.NotAcceptable, tooNew);
        Assert.NotNull(fault);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/volumes", cloud.A.Token, version: "three")).Status);
        // The attachments API begins at 3.27.
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/attachments", cloud.A.Token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/attachments", cloud.A.Token, version: "3.27")).Status);
    }

    [Fact]
    public async Task Another_project_can_neither_see_nor_change_a_volume_and_admin_actions_need_the_admin_role()
    {
        var id = await CreateAsync(cloud.A, "private-a");
        var b = cloud.B;
        foreach (var (method, path, body) in new (HttpMethod, string, JsonNode?)[]
                 {
                     (HttpMethod.Get, $"/volumes/{id}", null),
                     (HttpMethod.Put, $"/volumes/{id}", new JsonObject { ["volume"] = new JsonObject { ["name"] = "stolen" } }),
                     (HttpMethod.Delete, $"/volumes/{id}", null),
                     (HttpMethod.Post, $"/volumes/{id}/action", new JsonObject { ["os-extend"] = new JsonObject { ["new_size"] = 2 } }),
                     (HttpMethod.Get, $"/volumes/{id}/metadata", null),
                     (HttpMethod.Post, "/snapshots", new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id } }),
                     (HttpMethod.Post, "/volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["source_volid"] = id } }),
                     (HttpMethod.Post, "/os-volume-transfer", new JsonObject { ["transfer"] = new JsonObject { ["volume_id"] = id } }),
                 })
        {
            var (status, fault) = await cloud.SendAsync(method, $"/v3/{b.Project}{path}", b.Token, body);
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path} by another project answered {status}");
            AssertFault(fault, "itemNotFound", 404);
        }
        var (listed, list) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/volumes/detail?all_tenants=1", b.Token);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.DoesNotContain(list!["volumes"]!.AsArray(), v => v!["id"]!.GetValue<string>() == id);
        // Naming the other project in the URL is refused outright.
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/volumes/{id}", b.Token)).Status);

        // A member cannot reset a status or manage types and quotas; the admin can, and sees every project's volumes.
        var reset = new JsonObject { ["os-reset_status"] = new JsonObject { ["status"] = "error" } };
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{cloud.A.Project}/volumes/{id}/action", cloud.A.Token, reset)).Body, "forbidden", 403);
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{cloud.A.Project}/types", cloud.A.Token,
            new JsonObject { ["volume_type"] = new JsonObject { ["name"] = "mine" } })).Body, "forbidden", 403);
        AssertFault((await cloud.SendAsync(HttpMethod.Put, $"/v3/{cloud.A.Project}/os-quota-sets/{cloud.A.Project}", cloud.A.Token,
            new JsonObject { ["quota_set"] = new JsonObject { ["volumes"] = 100 } })).Body, "forbidden", 403);
        var (all, everything) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.Admin.Project}/volumes/detail?all_tenants=1", cloud.Admin.Token);
        Assert.Equal(HttpStatusCode.OK, all);
        Assert.Contains(everything!["volumes"]!.AsArray(), v => v!["id"]!.GetValue<string>() == id);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{cloud.Admin.Project}/volumes/{id}/action", cloud.Admin.Token, reset)).Status);
        var (_, shown) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.A.Project}/volumes/{id}", cloud.A.Token);
        Assert.Equal("error", shown!["volume"]!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{cloud.A.Project}/volumes/{id}", cloud.A.Token)).Status);
    }

    [Fact]
    public async Task Bad_input_gets_cinders_errors_and_creates_nothing()
    {
        var a = cloud.A;
        var before = await CountAsync(a);
        foreach (var size in new object[] { -1, 0, "abc", 1.5, 1L << 40 })
        {
            var (status, fault) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token, Volume(size));
            Assert.True(status == HttpStatusCode.BadRequest, $"size {size} answered {status}");
            AssertFault(fault, "badRequest", 400);
        }
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token, Volume(1, type: "no-such-type"))).Body, "itemNotFound", 404, "no-such-type");
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token, rawBody: "{\"volume\": {\"size\": 1,")).Body, "badRequest", 400);
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token, rawBody: "[1, 2]")).Body, "badRequest", 400);
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token, Volume(1, new string('n', 256)))).Body, "badRequest", 400);
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["snapshot_id"] = Guid.NewGuid().ToString() } })).Body, "itemNotFound", 404);
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["availability_zone"] = "mars" } })).Body, "badRequest", 400, "mars");
        AssertFault((await cloud.SendAsync(HttpMethod.Get, $"/v3/{a.Project}/volumes/not-a-uuid", a.Token)).Body, "itemNotFound", 404);
        // An image the caller cannot read (none here has this id), or an image and a snapshot at once.
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = Guid.NewGuid().ToString() } })).Body, "badRequest", 400, "Invalid image identifier");
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes", a.Token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = Guid.NewGuid().ToString(), ["snapshot_id"] = Guid.NewGuid().ToString() } })).Body,
            "badRequest", 400, "only one of");
        Assert.Equal(before, await CountAsync(a));

        // Wrong states and sizes.
        var id = await CreateAsync(a, "states", 2);
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-extend"] = new JsonObject { ["new_size"] = 1 } })).Body, "badRequest", 400, "greater than current size");
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-no-such-action"] = new JsonObject() })).Body, "badRequest", 400, "no such action");
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-attach"] = new JsonObject { ["instance_uuid"] = Guid.NewGuid().ToString(), ["mountpoint"] = "/dev/vdb" } })).Status);
        AssertFault((await cloud.SendAsync(HttpMethod.Delete, $"/v3/{a.Project}/volumes/{id}", a.Token)).Body, "badRequest", 400, "attached");
        AssertFault((await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/snapshots", a.Token,
            new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id } })).Body, "badRequest", 400, "in-use");
        var (forced, snapshot) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/snapshots", a.Token,
            new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id, ["force"] = true, ["name"] = "live" } });
        Assert.Equal(HttpStatusCode.Accepted, forced);
        Assert.Equal("available", snapshot!["snapshot"]!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-detach"] = new JsonObject() })).Status);
        AssertFault((await cloud.SendAsync(HttpMethod.Delete, $"/v3/{a.Project}/volumes/{id}", a.Token)).Body, "badRequest", 400, "snapshots");
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{a.Project}/volumes/{id}?cascade=true", a.Token)).Status);
        Assert.Equal(before, await CountAsync(a));
    }

    [Fact]
    public async Task A_quota_overrun_answers_413_with_cinders_over_limit_body()
    {
        var b = cloud.B;
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Put, $"/v3/{cloud.Admin.Project}/os-quota-sets/{b.Project}", cloud.Admin.Token,
            new JsonObject { ["quota_set"] = new JsonObject { ["volumes"] = 1, ["gigabytes"] = 3 } })).Status);
        var (_, usage) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{b.Project}/os-quota-sets/{b.Project}?usage=True", b.Token);
        Assert.Equal(1, usage!["quota_set"]!["volumes"]!["limit"]!.GetValue<long>());
        var id = await CreateAsync(b, "only-one");
        var (status, fault) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{b.Project}/volumes", b.Token, Volume(1, "one-too-many"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        AssertFault(fault, "overLimit", 413, "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
        Assert.Equal("0", fault!["overLimit"]!["retryAfter"]!.GetValue<string>());
        var (extend, gigabytes) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{b.Project}/volumes/{id}/action", b.Token,
            new JsonObject { ["os-extend"] = new JsonObject { ["new_size"] = 4 } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, extend);
        AssertFault(gigabytes, "overLimit", 413, "gigabytes quota");
        // A limit below what is in use is refused.
        AssertFault((await cloud.SendAsync(HttpMethod.Put, $"/v3/{cloud.Admin.Project}/os-quota-sets/{b.Project}", cloud.Admin.Token,
            new JsonObject { ["quota_set"] = new JsonObject { ["volumes"] = 0 } })).Body, "badRequest", 400);
        Assert.Equal(1, await CountAsync(b));
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{b.Project}/volumes/{id}", b.Token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{cloud.Admin.Project}/os-quota-sets/{b.Project}", cloud.Admin.Token)).Status);
    }

    [Fact]
    public async Task An_attachment_gives_a_working_nbd_connection_and_follows_the_volume_through_its_states()
    {
        var a = cloud.A;
        var id = await CreateAsync(a, "attached");
        var server = Guid.NewGuid().ToString();
        var connector = new JsonObject { ["ip"] = "127.0.0.1", ["host"] = "compute-1", ["initiator"] = "iqn.test" };
        var (created, attachment) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/attachments", a.Token,
            new JsonObject { ["attachment"] = new JsonObject { ["volume_uuid"] = id, ["instance_uuid"] = server, ["connector"] = connector } }, version: "3.54");
        Assert.Equal(HttpStatusCode.OK, created);
        var info = attachment!["attachment"]!["connection_info"]!;
        Assert.Equal("nbd", info["driver_volume_type"]!.GetValue<string>());
        Assert.Equal(cloud.NbdPort, info["data"]!["port"]!.GetValue<int>());
        Assert.Equal(id, info["data"]!["export_name"]!.GetValue<string>());
        var attachmentId = attachment["attachment"]!["id"]!.GetValue<string>();

        // The connection info is what a client uses: write and read through it.
        var endpoint = new IPEndPoint(IPAddress.Parse(info["data"]!["host"]!.GetValue<string>()), info["data"]!["port"]!.GetValue<int>());
        await using (var nbd = await NbdTestClient.OpenAsync(endpoint, info["data"]!["export_name"]!.GetValue<string>()))
        {
            var data = new byte[4096];
            new Random(5).NextBytes(data);
            Assert.Equal(0u, await nbd.WriteBlockAsync(1, 1 << 20, data, fua: true));
            Assert.Equal(data, await nbd.ReadBlockAsync(2, 1 << 20, data.Length));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/attachments/{attachmentId}/action", a.Token,
            new JsonObject { ["os-complete"] = null }, version: "3.54")).Status);
        var (_, volume) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{a.Project}/volumes/{id}", a.Token);
        Assert.Equal("in-use", volume!["volume"]!["status"]!.GetValue<string>());
        Assert.Equal(server, volume["volume"]!["attachments"]![0]!["server_id"]!.GetValue<string>());
        AssertFault((await cloud.SendAsync(HttpMethod.Delete, $"/v3/{a.Project}/volumes/{id}", a.Token)).Body, "badRequest", 400);
        // In-use volumes extend from 3.42.
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-extend"] = new JsonObject { ["new_size"] = 2 } })).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-extend"] = new JsonObject { ["new_size"] = 2 } }, version: "3.42")).Status);

        var (deleted, remaining) = await cloud.SendAsync(HttpMethod.Delete, $"/v3/{a.Project}/attachments/{attachmentId}", a.Token, version: "3.54");
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Empty(remaining!["attachments"]!.AsArray());
        (_, volume) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{a.Project}/volumes/{id}", a.Token);
        Assert.Equal("available", volume!["volume"]!["status"]!.GetValue<string>());
        Assert.Equal(2, volume["volume"]!["size"]!.GetValue<int>());

        // The legacy connection action answers the same connection info.
        var (legacy, connection) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{a.Project}/volumes/{id}/action", a.Token,
            new JsonObject { ["os-initialize_connection"] = new JsonObject { ["connector"] = connector.DeepClone() } });
        Assert.Equal(HttpStatusCode.OK, legacy);
        Assert.Equal(id, connection!["connection_info"]!["data"]!["export_name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{a.Project}/volumes/{id}", a.Token)).Status);
    }
}

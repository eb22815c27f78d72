using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests.Volumes;

/// <summary>
/// Cinder's generic volume groups over real HTTP on the all-in-one appliance: group types and their specs, groups of
/// volumes of their types, group snapshots that keep each volume's data as it was, and groups cloned from a group
/// snapshot or from another group, checked byte for byte through NBD.
/// </summary>
public sealed class CinderGroupTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private const string Latest = "3.60";

    private string Admin(string path) => $"/v3/{cloud.Admin.Project}{path}";

    private string A(string path) => $"/v3/{cloud.A.Project}{path}";

    /// <summary>POSTs {member: body}; returns the id in the answer's <paramref name="answer"/> member (the same member unless named).</summary>
    private async Task<string> CreateAsync(string path, string token, string member, JsonObject body, HttpStatusCode expected = HttpStatusCode.Accepted,
        string? answer = null)
    {
        var (status, reply) = await cloud.SendAsync(HttpMethod.Post, path, token, new JsonObject { [member] = body }, Latest);
        Assert.True(status == expected, $"POST {path}: {(int)status} {reply?.ToJsonString()}");
        return reply![answer ?? member]!["id"]!.GetValue<string>();
    }

    private async Task<JsonArray> GroupVolumesAsync(string group)
    {
        var (_, listed) = await cloud.SendAsync(HttpMethod.Get, A($"/volumes/detail?group_id={group}&sort=name:asc"), cloud.A.Token, version: Latest);
        return listed!["volumes"]!.AsArray();
    }

    private async Task WriteAsync(string volume, byte fill)
    {
        await using var nbd = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), volume);
        Assert.Equal(0u, await nbd.WriteBlockAsync(1, 0, Pattern(fill), fua: true));
    }

    private async Task<byte[]> ReadAsync(string volume)
    {
        await using var nbd = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), volume);
        return await nbd.ReadBlockAsync(1, 0, 4096);
    }

    private static byte[] Pattern(byte fill)
    {
        var data = new byte[4096];
        Array.Fill(data, fill);
        return data;
    }

    [Fact]
    public async Task Group_types_keep_specs_that_only_admins_change_and_need_their_microversion()
    {
        var type = await CreateAsync(Admin("/group_types"), cloud.Admin.Token, "group_type",
            new JsonObject { ["name"] = "consistent", ["group_specs"] = new JsonObject { ["consistent_group_snapshot_enabled"] = "<is> True" } });
        var (status, specs) = await cloud.SendAsync(HttpMethod.Post, Admin($"/group_types/{type}/group_specs"), cloud.Admin.Token,
            new JsonObject { ["group_specs"] = new JsonObject { ["k"] = "v" } }, Latest);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("""{"group_specs":{"k":"v"}}""", specs!.ToJsonString());
        var (_, all) = await cloud.SendAsync(HttpMethod.Get, Admin($"/group_types/{type}/group_specs"), cloud.Admin.Token, version: Latest);
        Assert.Equal(2, all!["group_specs"]!.AsObject().Count);
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendAsync(HttpMethod.Post, A($"/group_types/{type}/group_specs"), cloud.A.Token,
            new JsonObject { ["group_specs"] = new JsonObject { ["k"] = "x" } }, Latest)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, Admin("/group_types"), cloud.Admin.Token, version: "3.10")).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, Admin($"/group_types/{type}/group_specs/k"), cloud.Admin.Token, version: Latest)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, Admin($"/group_types/{type}/group_specs/k"), cloud.Admin.Token, version: Latest)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, Admin($"/group_types/{type}"), cloud.Admin.Token, version: Latest)).Status);
    }

    [Fact]
    public async Task A_group_snapshot_keeps_each_volumes_data_and_groups_clone_from_it_or_from_the_group()
    {
        var volumeType = await CreateAsync(Admin("/types"), cloud.Admin.Token, "volume_type", new JsonObject { ["name"] = "grouped" }, HttpStatusCode.OK);
        var otherType = await CreateAsync(Admin("/types"), cloud.Admin.Token, "volume_type", new JsonObject { ["name"] = "ungrouped" }, HttpStatusCode.OK);
        var groupType = await CreateAsync(Admin("/group_types"), cloud.Admin.Token, "group_type", new JsonObject { ["name"] = "plain" });
        var group = await CreateAsync(A("/groups"), cloud.A.Token, "group",
            new JsonObject { ["name"] = "db", ["group_type"] = groupType, ["volume_types"] = new JsonArray(volumeType) });
        var volumes = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            volumes.Add(await CreateAsync(A("/volumes"), cloud.A.Token, "volume",
                new JsonObject { ["size"] = 1, ["name"] = $"member-{i}", ["volume_type"] = volumeType, ["group_id"] = group }));
            await WriteAsync(volumes[i], (byte)(0x10 + i));
        }
        var (wrongType, _) = await cloud.SendAsync(HttpMethod.Post, A("/volumes"), cloud.A.Token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["volume_type"] = otherType, ["group_id"] = group } }, Latest);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.B.Project}/groups/{group}", cloud.B.Token, version: Latest)).Status);

        var groupSnapshot = await CreateAsync(A("/group_snapshots"), cloud.A.Token, "group_snapshot", new JsonObject { ["group_id"] = group, ["name"] = "nightly" });
        var (_, shown) = await cloud.SendAsync(HttpMethod.Get, A($"/group_snapshots/{groupSnapshot}"), cloud.A.Token, version: Latest);
        Assert.Equal("available", shown!["group_snapshot"]!["status"]!.GetValue<string>());
        var (_, snapshots) = await cloud.SendAsync(HttpMethod.Get, A("/snapshots/detail"), cloud.A.Token, version: Latest);
        var members = snapshots!["snapshots"]!.AsArray().Where(s => s!["group_snapshot_id"]?.GetValue<string>() == groupSnapshot).ToList();
        Assert.Equal(2, members.Count);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Delete, A($"/snapshots/{members[0]!["id"]!.GetValue<string>()}"), cloud.A.Token)).Status);

        // Written after the snapshot: the group sees it, the snapshot's clone does not.
        await WriteAsync(volumes[0], 0x77);
        var fromSnapshot = await CreateAsync(A("/groups/action"), cloud.A.Token, "create-from-src", new JsonObject { ["group_snapshot_id"] = groupSnapshot, ["name"] = "restored" }, answer: "group");
        var fromGroup = await CreateAsync(A("/groups/action"), cloud.A.Token, "create-from-src", new JsonObject { ["source_group_id"] = group, ["name"] = "copy" }, answer: "group");
        var restored = await GroupVolumesAsync(fromSnapshot);
        var copied = await GroupVolumesAsync(fromGroup);
        Assert.Equal(2, restored.Count);
        Assert.Equal(2, copied.Count);
        Assert.Equal(Pattern(0x10), await ReadAsync(restored[0]!["id"]!.GetValue<string>()));
        Assert.Equal(Pattern(0x11), await ReadAsync(restored[1]!["id"]!.GetValue<string>()));
        Assert.Equal(Pattern(0x77), await ReadAsync(copied[0]!["id"]!.GetValue<string>()));
        Assert.Equal(Pattern(0x11), await ReadAsync(copied[1]!["id"]!.GetValue<string>()));
        var (_, restoredGroup) = await cloud.SendAsync(HttpMethod.Get, A($"/groups/{fromSnapshot}"), cloud.A.Token, version: Latest);
        Assert.Equal(groupSnapshot, restoredGroup!["group"]!["group_snapshot_id"]!.GetValue<string>());

        // Removing and adding a member; an empty update is refused.
        var (updated, _) = await cloud.SendAsync(HttpMethod.Put, A($"/groups/{group}"), cloud.A.Token,
            new JsonObject { ["group"] = new JsonObject { ["remove_volumes"] = volumes[1], ["name"] = "db-renamed" } }, Latest);
        Assert.Equal(HttpStatusCode.Accepted, updated);
        Assert.Single(await GroupVolumesAsync(group));
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Put, A($"/groups/{group}"), cloud.A.Token,
            new JsonObject { ["group"] = new JsonObject { ["add_volumes"] = volumes[1] } }, Latest)).Status);
        Assert.Equal(2, (await GroupVolumesAsync(group)).Count);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Put, A($"/groups/{group}"), cloud.A.Token,
            new JsonObject { ["group"] = new JsonObject() }, Latest)).Status);

        // A group with snapshots, or with volumes and no delete-volumes flag, stays.
        var delete = new JsonObject { ["delete"] = new JsonObject { ["delete-volumes"] = true } };
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, A($"/groups/{group}/action"), cloud.A.Token, delete, Latest)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, A($"/groups/{fromGroup}/action"), cloud.A.Token,
            new JsonObject { ["delete"] = new JsonObject { ["delete-volumes"] = false } }, Latest)).Status);
        foreach (var target in new[] { fromSnapshot, fromGroup })
            Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Post, A($"/groups/{target}/action"), cloud.A.Token, delete.DeepClone(), Latest)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, A($"/group_snapshots/{groupSnapshot}"), cloud.A.Token, version: Latest)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Post, A($"/groups/{group}/action"), cloud.A.Token, delete.DeepClone(), Latest)).Status);
        foreach (var volume in volumes)
            Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, A($"/volumes/{volume}"), cloud.A.Token)).Status);
        Assert.Empty((await cloud.SendAsync(HttpMethod.Get, A("/groups"), cloud.A.Token, version: Latest)).Body!["groups"]!.AsArray());
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, Admin($"/group_types/{groupType}"), cloud.Admin.Token, version: Latest)).Status);
    }
}

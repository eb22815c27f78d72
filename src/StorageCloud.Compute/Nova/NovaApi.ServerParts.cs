using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>A server's metadata, tags, addresses, security groups, interfaces and instance action log.</summary>
public sealed partial class NovaApi
{
    private void MapServerParts()
    {
        Map("GET", "/servers/{id}/metadata", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["metadata"] = (await FindServerAsync(r, r.Args[0]))["metadata"]!.DeepClone() }));
        Map("PUT", "/servers/{id}/metadata", r => SetMetadataAsync(r, replace: true));
        Map("POST", "/servers/{id}/metadata", r => SetMetadataAsync(r, replace: false));
        Map("GET", "/servers/{id}/metadata/{key}", async r =>
        {
            var value = (await FindServerAsync(r, r.Args[0]))["metadata"]![r.Args[1]] ?? throw NotFound("Metadata item was not found");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["meta"] = new JsonObject { [r.Args[1]] = value.DeepClone() } });
        });
        Map("PUT", "/servers/{id}/metadata/{key}", SetMetadataItemAsync);
        Map("DELETE", "/servers/{id}/metadata/{key}", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0], write: true);
            CheckUnlocked(r, server);
            if (!server["metadata"]!.AsObject().Remove(r.Args[1])) throw NotFound("Metadata item was not found");
            await SaveServerAsync(server);
            await ApiResponses.NoContent(r.Context, 204);
        });

        Map("GET", "/servers/{id}/tags", async r => await WriteTagsAsync(r, await FindTaggedAsync(r, write: false)));
        Map("PUT", "/servers/{id}/tags", ReplaceTagsAsync);
        Map("DELETE", "/servers/{id}/tags", async r =>
        {
            var server = await FindTaggedAsync(r, write: true);
            server["tags"] = new JsonArray();
            await SaveServerAsync(server);
            await ApiResponses.NoContent(r.Context, 204);
        });
        Map("GET", "/servers/{id}/tags/{tag}", async r =>
        {
            var server = await FindTaggedAsync(r, write: false);
            if (!TagsOf(server).Contains(r.Args[1])) throw NotFound($"Tag {r.Args[1]} could not be found.");
            await ApiResponses.NoContent(r.Context, 204);
        });
        Map("PUT", "/servers/{id}/tags/{tag}", async r =>
        {
            var server = await FindTaggedAsync(r, write: true);
            var tag = CheckTag(r.Args[1]);
            var tags = TagsOf(server);
            if (tags.Contains(tag))
            {
                await ApiResponses.NoContent(r.Context, 204);
                return;
            }
            if (tags.Count >= 50) throw ApiError.BadRequest("The number of tags exceeded the per-server limit 50");
            server["tags"]!.AsArray().Add(tag);
            await SaveServerAsync(server);
            r.Context.Response.Headers.Location = $"{r.HostUrl}/v2.1/servers/{r.Args[0]}/tags/{tag}";
            await ApiResponses.NoContent(r.Context, 201);
        });
        Map("DELETE", "/servers/{id}/tags/{tag}", async r =>
        {
            var server = await FindTaggedAsync(r, write: true);
            var found = server["tags"]!.AsArray().FirstOrDefault(t => t!.GetValue<string>() == r.Args[1]) ?? throw NotFound($"Tag {r.Args[1]} could not be found.");
            server["tags"]!.AsArray().Remove(found);
            await SaveServerAsync(server);
            await ApiResponses.NoContent(r.Context, 204);
        });

        Map("GET", "/servers/{id}/ips", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0]);
            var view = await NetworkViewAsync(r, [server]);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["addresses"] = Plain(view.AddressesOf(server)) });
        });
        Map("GET", "/servers/{id}/ips/{network}", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0]);
            var addresses = Plain((await NetworkViewAsync(r, [server])).AddressesOf(server));
            var list = addresses[r.Args[1]] ?? throw NotFound("Instance is not a member of specified network");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [r.Args[1]] = list.DeepClone() });
        });
        Map("GET", "/servers/{id}/os-security-groups", ServerSecurityGroupsAsync);
        // No metadata service runs, so no guest ever posts an encrypted password: the password is always empty.
        Map("GET", "/servers/{id}/os-server-password", async r =>
        {
            await FindServerAsync(r, r.Args[0]);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["password"] = "" });
        });
        Map("DELETE", "/servers/{id}/os-server-password", async r =>
        {
            await FindServerAsync(r, r.Args[0], write: true);
            await ApiResponses.NoContent(r.Context, 204);
        });
        Map("GET", "/servers/{id}/os-instance-actions", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0], deletedFrom: 21);
            var list = new JsonArray();
            foreach (var a in (server["_actions"] as JsonArray ?? []).Reverse()) list.Add(ActionView(r, a!.AsObject(), events: false));
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["instanceActions"] = list });
        });
        Map("GET", "/servers/{id}/os-instance-actions/{request}", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0], deletedFrom: 21);
            var action = (server["_actions"] as JsonArray ?? []).FirstOrDefault(a => Str(a!.AsObject(), "request_id") == r.Args[1])
                ?? throw NotFound($"Action for request_id {r.Args[1]} on instance {r.Args[0]} not found");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["instanceAction"] = ActionView(r, action.AsObject(), events: true) });
        });
    }

    /// <summary>Addresses without the OS-EXT-IPS attributes, as /ips shows them.</summary>
    private static JsonObject Plain(JsonObject addresses)
    {
        var result = new JsonObject();
        foreach (var (network, list) in addresses)
        {
            var plain = new JsonArray();
            foreach (var a in list as JsonArray ?? []) plain.Add(new JsonObject { ["version"] = a!["version"]!.DeepClone(), ["addr"] = a["addr"]!.DeepClone() });
            result[network] = plain;
        }
        return result;
    }

    private async Task SetMetadataAsync(ApiRequest r, bool replace)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body["metadata"] is not JsonObject) throw ApiError.BadRequest("Invalid input for field/attribute metadata. 'metadata' is a required property");
        var given = Metadata(body["metadata"], "metadata");
        var current = replace ? new JsonObject() : server["metadata"]!.AsObject();
        foreach (var (k, v) in given) current[k] = v;
        if (current.Count > await LimitAsync(Str(server, "tenant_id")!, "metadata_items")) throw new ApiError(403, "Quota exceeded for metadata_items: Requested metadata items exceeds the allowed number");
        server["metadata"] = current;
        await SaveServerAsync(server);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["metadata"] = current.DeepClone() });
    }

    private async Task SetMetadataItemAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        var body = await JsonBody.ReadAsync(r.Context);
        var given = Metadata(body["meta"] ?? throw ApiError.BadRequest("Invalid input for field/attribute meta. 'meta' is a required property"), "meta");
        if (given.Count != 1) throw ApiError.BadRequest("Request body contains too many items");
        if (!given.ContainsKey(r.Args[1])) throw ApiError.BadRequest("Request body and URI mismatch");
        server["metadata"]![r.Args[1]] = given[r.Args[1]];
        if (server["metadata"]!.AsObject().Count > await LimitAsync(Str(server, "tenant_id")!, "metadata_items")) throw new ApiError(403, "Quota exceeded for metadata_items: Requested metadata items exceeds the allowed number");
        await SaveServerAsync(server);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["meta"] = ToObject(given) });
    }

    private async Task<JsonObject> FindTaggedAsync(ApiRequest r, bool write)
    {
        if (!AtLeast(r, 26)) throw NotFound("The resource could not be found.");
        var server = await FindServerAsync(r, r.Args[0], write);
        if (write && Str(server, "vm_state") is "building") throw ApiError.Conflict($"Cannot 'update tags' instance {Str(server, "id")} while it is in vm_state building");
        return server;
    }

    private static List<string> TagsOf(JsonObject server) => (server["tags"] as JsonArray ?? []).Select(t => t!.GetValue<string>()).ToList();

    private static string CheckTag(string tag) =>
        tag.Length is 0 or > 60 || tag.Contains('/') || tag.Contains(',') ? throw ApiError.BadRequest($"Invalid input for field/attribute tag. Value: {tag}.") : tag;

    private static Task WriteTagsAsync(ApiRequest r, JsonObject server) =>
        ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tags"] = server["tags"]!.DeepClone() });

    private async Task ReplaceTagsAsync(ApiRequest r)
    {
        var server = await FindTaggedAsync(r, write: true);
        var tags = JsonBody.OptionalStrings(await JsonBody.ReadAsync(r.Context), "tags", "request body") ?? throw ApiError.BadRequest("Invalid input for field/attribute tags. 'tags' is a required property");
        if (tags.Count > 50) throw ApiError.BadRequest("The number of tags exceeded the per-server limit 50");
        server["tags"] = new JsonArray([.. tags.Select(CheckTag).Distinct().Select(t => (JsonNode)t)]);
        await SaveServerAsync(server);
        await WriteTagsAsync(r, server);
    }

    private async Task ServerSecurityGroupsAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0]);
        var view = await NetworkViewAsync(r, [server]);
        var list = new JsonArray();
        foreach (var named in view.SecurityGroupsOf(server))
        {
            var name = named!["name"]!.GetValue<string>();
            if (await FindSecurityGroupAsync(r, name) is not { } found) continue;
            var group = await _clients.NetworkGetAsync(Token(r), $"/security-groups/{found.Id}");
            if (group?["security_group"] is JsonObject g) list.Add(await GroupViewAsync(r, g, []));
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["security_groups"] = list });
    }

    /// <summary>Adds an entry to the server's action log (os-instance-actions), finished at once as the fake driver's are.</summary>
    private async Task RecordActionAsync(ApiRequest r, JsonObject server, string action, bool save = true)
    {
        var now = Now();
        var log = server["_actions"] as JsonArray ?? [];
        server["_actions"] = log;
        log.Add(new JsonObject
        {
            ["action"] = action,
            ["instance_uuid"] = Str(server, "id"),
            ["request_id"] = r.Context.Response.Headers["X-Openstack-Request-Id"].ToString(),
            ["user_id"] = Me(r).UserId,
            ["project_id"] = Me(r).ProjectId,
            ["start_time"] = now,
            ["updated_at"] = now,
            ["message"] = null,
            ["events"] = new JsonArray(new JsonObject
            {
                ["event"] = "compute_" + action, ["start_time"] = now, ["finish_time"] = now, ["result"] = "Success", ["traceback"] = null,
                ["host"] = _settings.HostName, ["hostId"] = HostId(Str(server, "tenant_id")!),
            }),
        });
        if (save) await SaveServerAsync(server);
    }

    private static JsonObject ActionView(ApiRequest r, JsonObject a, bool events)
    {
        var view = new JsonObject();
        foreach (var key in new[] { "action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message" }) view[key] = a[key]?.DeepClone();
        if (AtLeast(r, 58)) view["updated_at"] = a["updated_at"]?.DeepClone();
        if (events && (Me(r).IsAdmin || AtLeast(r, 51)))
        {
            var list = new JsonArray();
            foreach (var e in a["events"] as JsonArray ?? [])
            {
                var ev = e!.DeepClone().AsObject();
                if (!Me(r).IsAdmin) { ev.Remove("traceback"); ev.Remove("host"); }
                if (!AtLeast(r, 62)) { ev.Remove("host"); ev.Remove("hostId"); }
                list.Add(ev);
            }
            view["events"] = list;
        }
        return view;
    }
}

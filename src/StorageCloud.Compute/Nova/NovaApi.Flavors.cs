using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>Flavors: the defaults every Nova lists, admin create/delete, extra specs and access lists for private ones.</summary>
public sealed partial class NovaApi
{
    /// <summary>The flavors a new appliance has (id, name, vCPUs, RAM MiB, root GiB), as devstack and Nova's defaults.</summary>
    private static readonly (string Id, string Name, int Vcpus, int Ram, int Disk)[] DefaultFlavors =
    [
        ("42", "m1.nano", 1, 128, 1), ("84", "m1.micro", 1, 192, 1), ("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 20),
        ("3", "m1.medium", 2, 4096, 40), ("4", "m1.large", 4, 8192, 80), ("5", "m1.xlarge", 8, 16384, 160),
    ];

    private const string FlavorKind = "flavor";
    private bool _flavorsSeeded;

    private void MapFlavors()
    {
        Map("GET", "/flavors", r => ListFlavorsAsync(r, detail: false));
        Map("GET", "/flavors/detail", r => ListFlavorsAsync(r, detail: true));
        Map("POST", "/flavors", CreateFlavorAsync);
        Map("GET", "/flavors/{id}", async r => await WriteFlavorAsync(r, 200, await VisibleFlavorAsync(r, r.Args[0])));
        Map("PUT", "/flavors/{id}", UpdateFlavorAsync);
        Map("DELETE", "/flavors/{id}", DeleteFlavorAsync);
        Map("GET", "/flavors/{id}/os-extra_specs", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extra_specs"] = (await VisibleFlavorAsync(r, r.Args[0]))["extra_specs"]!.DeepClone() }));
        Map("POST", "/flavors/{id}/os-extra_specs", SetExtraSpecsAsync);
        Map("GET", "/flavors/{id}/os-extra_specs/{key}", async r =>
        {
            var specs = (await VisibleFlavorAsync(r, r.Args[0]))["extra_specs"]!.AsObject();
            var value = specs[r.Args[1]] ?? throw NotFound($"Flavor {r.Args[0]} has no extra specs with key {r.Args[1]}.");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [r.Args[1]] = value.DeepClone() });
        });
        Map("PUT", "/flavors/{id}/os-extra_specs/{key}", SetExtraSpecAsync);
        Map("DELETE", "/flavors/{id}/os-extra_specs/{key}", DeleteExtraSpecAsync);
        Map("GET", "/flavors/{id}/os-flavor-access", FlavorAccessAsync);
        Map("POST", "/flavors/{id}/action", FlavorActionAsync);
    }

    /// <summary>The default flavors, made once per database (a flavor deleted by an admin is not made again: the marker row stays).</summary>
    private async Task SeedFlavorsAsync()
    {
        if (_flavorsSeeded) return;
        await _gate.WaitAsync();
        try
        {
            if (await _store.GetAsync<Records.ComputeRow>("seed:flavors") is null)
            {
                foreach (var (id, name, vcpus, ram, disk) in DefaultFlavors)
                    await InsertAsync(FlavorKind, id, "", NewFlavor(id, name, vcpus, ram, disk, 0, 0, true, null));
                await _store.InsertAsync(new Records.ComputeRow { Id = "seed:flavors", Kind = "seed", ProjectId = "", Body = "{}" });
            }
            _flavorsSeeded = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static JsonObject NewFlavor(string id, string name, int vcpus, long ram, long disk, long ephemeral, long swap, bool isPublic, string? description) => new()
    {
        ["id"] = id,
        ["name"] = name,
        ["vcpus"] = vcpus,
        ["ram"] = ram,
        ["disk"] = disk,
        ["ephemeral"] = ephemeral,
        ["swap"] = swap,
        ["rxtx_factor"] = 1.0,
        ["is_public"] = isPublic,
        ["disabled"] = false,
        ["description"] = description,
        ["extra_specs"] = new JsonObject(),
        ["projects"] = new JsonArray(),
        ["created_at"] = Now(),
    };

    /// <summary>A flavor the caller may use: public ones, private ones its project was given, all for admins.</summary>
    private static bool MayUse(ApiRequest r, JsonObject flavor) =>
        Flag(flavor, "is_public") || Me(r).IsAdmin || (flavor["projects"] as JsonArray ?? []).Any(p => p?.GetValue<string>() == Project(r));

    private async Task<JsonObject> VisibleFlavorAsync(ApiRequest r, string id)
    {
        await SeedFlavorsAsync();
        var flavor = await LoadAsync(FlavorKind, id);
        if (flavor is null || !MayUse(r, flavor)) throw NotFound($"Flavor {id} could not be found.");
        return flavor;
    }

    /// <summary>The flavor as Nova shows it at the request's microversion.</summary>
    private static JsonObject FlavorView(ApiRequest r, JsonObject f, bool detail = true)
    {
        var id = Str(f, "id")!;
        var view = new JsonObject { ["id"] = id, ["name"] = Str(f, "name"), ["links"] = Links(r, "flavors", id) };
        if (AtLeast(r, 55)) view["description"] = Str(f, "description");
        if (!detail) return view;
        view["ram"] = Long(f, "ram");
        view["disk"] = Long(f, "disk");
        view["vcpus"] = Long(f, "vcpus");
        view["swap"] = Long(f, "swap") == 0 && !AtLeast(r, 75) ? "" : Long(f, "swap");
        view["OS-FLV-EXT-DATA:ephemeral"] = Long(f, "ephemeral");
        view["OS-FLV-DISABLED:disabled"] = false;
        view["rxtx_factor"] = 1.0;
        view["os-flavor-access:is_public"] = Flag(f, "is_public");
        if (AtLeast(r, 61)) view["extra_specs"] = f["extra_specs"]!.DeepClone();
        return view;
    }

    private static Task WriteFlavorAsync(ApiRequest r, int status, JsonObject flavor) =>
        ApiResponses.WriteJsonAsync(r.Context, status, new JsonObject { ["flavor"] = FlavorView(r, flavor) });

    private async Task ListFlavorsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        await SeedFlavorsAsync();
        var flavors = (await AllAsync(FlavorKind)).Where(f => MayUse(r, f)).ToList();
        var isPublic = r.Query("is_public");
        if (Me(r).IsAdmin && isPublic is not null && isPublic.ToLowerInvariant() is not ("none"))
        {
            var wanted = isPublic.ToLowerInvariant() is "true" or "1" or "yes" or "t";
            flavors = flavors.Where(f => Flag(f, "is_public") == wanted).ToList();
        }
        else if (Me(r).IsAdmin && isPublic is null) flavors = flavors.Where(f => Flag(f, "is_public") || (f["projects"] as JsonArray ?? []).Any(p => p?.GetValue<string>() == Project(r))).ToList();
        if (r.Query("minRam") is { } minRam)
            flavors = flavors.Where(f => Long(f, "ram") >= (long.TryParse(minRam, out var m) ? m : throw ApiError.BadRequest($"Invalid minRam filter [{minRam}]"))).ToList();
        if (r.Query("minDisk") is { } minDisk)
            flavors = flavors.Where(f => Long(f, "disk") >= (long.TryParse(minDisk, out var m) ? m : throw ApiError.BadRequest($"Invalid minDisk filter [{minDisk}]"))).ToList();
        var key = r.Query("sort_key") ?? "flavorid";
        var field = key switch
        {
            "flavorid" or "id" => "id", "name" => "name", "memory_mb" => "ram", "vcpus" => "vcpus", "root_gb" => "disk", "ephemeral_gb" => "ephemeral",
            "swap" => "swap", "created_at" => "created_at", "rxtx_factor" or "is_public" or "disabled" or "description" => "id",
            _ => throw ApiError.BadRequest($"Invalid input for query parameters sort_key. Value: {key}."),
        };
        var descending = r.Query("sort_dir") is "desc";
        flavors.Sort((a, b) =>
        {
            int c = a[field] is JsonValue x && x.TryGetValue<long>(out var m) && b[field] is JsonValue y && y.TryGetValue<long>(out var n)
                ? m.CompareTo(n) : string.CompareOrdinal(a[field]?.ToString(), b[field]?.ToString());
            return descending ? -c : c;
        });
        var (page, more) = Pagination.Page(flavors, f => Str(f, "id")!, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000),
            m => ApiError.BadRequest($"marker [{m}] not found"));
        var items = new JsonArray();
        foreach (var f in page) items.Add(FlavorView(r, f, detail));
        var body = new JsonObject { ["flavors"] = items };
        if (more) body["flavors_links"] = Pagination.NextLinks(r.Context.Request, $"{r.HostUrl}/v2.1/flavors{(detail ? "/detail" : "")}", Str(page[^1], "id")!);
        await ApiResponses.WriteJsonAsync(r.Context, 200, body);
    }

    private async Task CreateFlavorAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        await SeedFlavorsAsync();
        var body = await BodyAsync(r, "flavor");
        var name = Name(body, "name");
        // Nova takes an id as a string or a whole number (kept as its decimal string), or none (a new UUID).
        var id = body["id"] switch
        {
            null => Guid.NewGuid().ToString("D"),
            JsonValue n when n.TryGetValue<long>(out var number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
            JsonValue t when t.TryGetValue<string>(out var given) && given.Length is > 0 and <= 255 && given.Trim() == given => given,
            var other => throw ApiError.BadRequest($"Invalid input for field/attribute id. Value: {other.ToJsonString()}."),
        };
        var vcpus = Count(body, "vcpus", 1, int.MaxValue, required: true);
        var ram = Count(body, "ram", 1, int.MaxValue, required: true);
        var disk = Count(body, "disk", 0, int.MaxValue, required: true);
        var ephemeral = Count(body, "OS-FLV-EXT-DATA:ephemeral", 0, int.MaxValue, required: false);
        var swap = Count(body, "swap", 0, int.MaxValue, required: false);
        var isPublic = body["os-flavor-access:is_public"] switch
        {
            null => true,
            JsonValue b when b.TryGetValue<bool>(out var flag) => flag,
            JsonValue t when t.TryGetValue<string>(out var text) && text.ToLowerInvariant() is "true" or "t" or "1" or "yes" or "y" or "on" => true,
            JsonValue t when t.TryGetValue<string>(out var text) && text.ToLowerInvariant() is "false" or "f" or "0" or "no" or "n" or "off" => false,
            var other => throw ApiError.BadRequest($"Invalid input for field/attribute os-flavor-access:is_public. Value: {other.ToJsonString()}."),
        };
        var description = AtLeast(r, 55) ? JsonBody.OptionalString(body, "description", "flavor") : null;
        if (description is { Length: > 65535 }) throw ApiError.BadRequest("Invalid input for field/attribute description: too long.");
        if ((await AllAsync(FlavorKind)).Any(f => Str(f, "name") == name)) throw ApiError.Conflict($"Flavor with name {name} already exists.");
        var flavor = NewFlavor(id, name, (int)vcpus, ram, disk, ephemeral, swap, isPublic, description);
        if (!await InsertAsync(FlavorKind, id, "", flavor)) throw ApiError.Conflict($"Flavor with ID {id} already exists.");
        await WriteFlavorAsync(r, 200, flavor);
    }

    /// <summary>A whole number of at least <paramref name="min"/> (a numeric string too, as Nova's schema allows).</summary>
    private static long Count(JsonObject body, string name, long min, long max, bool required)
    {
        var node = body[name];
        if (node is null)
            return required ? throw ApiError.BadRequest($"Invalid input for field/attribute flavor. Value: {body.ToJsonString()}. '{name}' is a required property") : 0;
        long value;
        if (node is JsonValue v && v.TryGetValue<long>(out var n)) value = n;
        else if (node is JsonValue s && s.TryGetValue<string>(out var text) && long.TryParse(text.Trim(), out var parsed)) value = parsed;
        else throw ApiError.BadRequest($"Invalid input for field/attribute {name}. Value: {node.ToJsonString()}. {node.ToJsonString()} is not of type 'integer', 'string'");
        if (value < min || value > max) throw ApiError.BadRequest($"Invalid input for field/attribute {name}. Value: {value}. {value} is less than the minimum of {min}");
        return value;
    }

    private async Task UpdateFlavorAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        if (!AtLeast(r, 55)) throw NotFound("The resource could not be found.");
        var flavor = await VisibleFlavorAsync(r, r.Args[0]);
        var body = await BodyAsync(r, "flavor");
        if (!body.ContainsKey("description")) throw ApiError.BadRequest("Invalid input for field/attribute flavor. 'description' is a required property");
        flavor["description"] = JsonBody.OptionalString(body, "description", "flavor");
        await SaveAsync(FlavorKind, r.Args[0], "", flavor);
        await WriteFlavorAsync(r, 200, flavor);
    }

    private async Task DeleteFlavorAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        await VisibleFlavorAsync(r, r.Args[0]);
        await DeleteRowAsync(FlavorKind, r.Args[0]);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task SetExtraSpecsAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var flavor = await VisibleFlavorAsync(r, r.Args[0]);
        var specs = Metadata((await JsonBody.ReadAsync(r.Context))["extra_specs"] ?? throw ApiError.BadRequest("Invalid input for field/attribute extra_specs: 'extra_specs' is a required property"), "extra_specs");
        var current = flavor["extra_specs"]!.AsObject();
        foreach (var (k, v) in specs) current[k] = v;
        await SaveAsync(FlavorKind, r.Args[0], "", flavor);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extra_specs"] = ToObject(specs) });
    }

    private async Task SetExtraSpecAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var flavor = await VisibleFlavorAsync(r, r.Args[0]);
        var given = Metadata(await JsonBody.ReadAsync(r.Context), "extra_specs");
        if (given.Count != 1 || !given.ContainsKey(r.Args[1])) throw ApiError.BadRequest("Request body and URI mismatch");
        flavor["extra_specs"]![r.Args[1]] = given[r.Args[1]];
        await SaveAsync(FlavorKind, r.Args[0], "", flavor);
        await ApiResponses.WriteJsonAsync(r.Context, 200, ToObject(given));
    }

    private async Task DeleteExtraSpecAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var flavor = await VisibleFlavorAsync(r, r.Args[0]);
        if (!flavor["extra_specs"]!.AsObject().Remove(r.Args[1])) throw NotFound($"Flavor {r.Args[0]} has no extra specs with key {r.Args[1]}.");
        await SaveAsync(FlavorKind, r.Args[0], "", flavor);
        await ApiResponses.NoContent(r.Context, 200);
    }

    private async Task FlavorAccessAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var flavor = await VisibleFlavorAsync(r, r.Args[0]);
        if (Flag(flavor, "is_public")) throw NotFound("Access list not available for public flavors.");
        await WriteAccessAsync(r, flavor);
    }

    private static Task WriteAccessAsync(ApiRequest r, JsonObject flavor)
    {
        var list = new JsonArray();
        foreach (var p in flavor["projects"] as JsonArray ?? []) list.Add(new JsonObject { ["flavor_id"] = Str(flavor, "id"), ["tenant_id"] = p!.GetValue<string>() });
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["flavor_access"] = list });
    }

    private async Task FlavorActionAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var flavor = await VisibleFlavorAsync(r, r.Args[0]);
        var body = await JsonBody.ReadAsync(r.Context);
        var projects = flavor["projects"]!.AsArray();
        if (body["addTenantAccess"] is JsonObject add)
        {
            var tenant = JsonBody.String(add, "tenant", "addTenantAccess");
            if (Flag(flavor, "is_public")) throw ApiError.Conflict("Can not add access to a public flavor.");
            if (projects.Any(p => p!.GetValue<string>() == tenant)) throw ApiError.Conflict($"Flavor access already exists for flavor {r.Args[0]} and project {tenant} combination.");
            projects.Add(tenant);
        }
        else if (body["removeTenantAccess"] is JsonObject remove)
        {
            var tenant = JsonBody.String(remove, "tenant", "removeTenantAccess");
            var found = projects.FirstOrDefault(p => p!.GetValue<string>() == tenant) ?? throw NotFound($"Flavor access not found for {r.Args[0]} / {tenant} combination.");
            projects.Remove(found);
        }
        else throw ApiError.BadRequest("Invalid input: addTenantAccess or removeTenantAccess is required.");
        await SaveAsync(FlavorKind, r.Args[0], "", flavor);
        await WriteAccessAsync(r, flavor);
    }
}

using StorageCloud.Identity.Auth;
using StorageCloud.Identity.Store;

namespace StorageCloud.Identity;

/// <summary>A catalog entry the bootstrap registers: the service and its URL on every interface.</summary>
public sealed record CatalogEntry(string Type, string Name, string Url);

/// <summary>
/// What `keystone-manage bootstrap` creates, done at start-up and idempotent: the Default domain, the admin and
/// service projects, the admin, member, reader, service and ResellerAdmin roles, the admin user (admin on the admin
/// project and on the system), the region and the catalog. Existing rows are left as they are, so an operator's
/// changes (a new admin password) survive restarts.
/// </summary>
public static class Bootstrap
{
    /// <summary>The default domain's id, as Keystone's.</summary>
    public const string DefaultDomainId = "default";

    /// <summary>Runs the bootstrap.</summary>
    public static async Task RunAsync(IdentityStore store, IdentityOptions options, string adminPassword, string region, IReadOnlyList<CatalogEntry> catalog)
    {
        await store.InsertAsync(new DomainRow { Id = DefaultDomainId, Name = "Default", Description = "The default domain" });
        var roles = new Dictionary<string, string>();
        foreach (var name in new[] { "admin", "member", "reader", "service", options.ResellerAdminRole })
            roles[name] = await EnsureAsync(store, (await store.ListAsync<RoleRow>(("name", name))).FirstOrDefault()?.Id, () => new RoleRow { Id = NewId(), Name = name });
        var adminProject = await EnsureAsync(store, await ProjectIdAsync(store, "admin"), () => new ProjectRow { Id = NewId(), Name = "admin", DomainId = DefaultDomainId, Description = "Bootstrap project for initializing the cloud." });
        await EnsureAsync(store, await ProjectIdAsync(store, "service"), () => new ProjectRow { Id = NewId(), Name = "service", DomainId = DefaultDomainId, Description = "Project for the services' own users." });
        var admin = await EnsureAsync(store, (await store.ListAsync<UserRow>(("name", "admin"), ("domain_id", DefaultDomainId))).FirstOrDefault()?.Id,
            () => new UserRow { Id = NewId(), Name = "admin", DomainId = DefaultDomainId, PasswordHash = PasswordHasher.Hash(adminPassword, options.PasswordHashRounds), DefaultProjectId = null });
        await Grant(store, "UserProject", admin, adminProject, roles["admin"]);
        await Grant(store, "UserSystem", admin, "all", roles["admin"]);

        await store.InsertAsync(new RegionRow { Id = region });
        var services = await store.ListAsync<ServiceRow>();
        foreach (var entry in catalog)
        {
            if (services.Any(s => s.Type == entry.Type)) continue;
            var service = new ServiceRow { Id = NewId(), Type = entry.Type, Name = entry.Name };
            await store.InsertAsync(service);
            foreach (var iface in new[] { "public", "internal", "admin" })
                await store.InsertAsync(new EndpointRow { Id = NewId(), ServiceId = service.Id, Interface = iface, RegionId = region, Url = entry.Url });
        }
    }

    private static async Task<string?> ProjectIdAsync(IdentityStore store, string name) =>
        (await store.ListAsync<ProjectRow>(("name", name), ("domain_id", DefaultDomainId))).FirstOrDefault()?.Id;

    private static async Task<string> EnsureAsync<T>(IdentityStore store, string? existing, Func<T> create) where T : class
    {
        if (existing is not null) return existing;
        var row = create();
        await store.InsertAsync(row);
        return (string)typeof(T).GetProperty("Id")!.GetValue(row)!;
    }

    private static Task Grant(IdentityStore store, string type, string actor, string target, string role) =>
        store.ExecuteAsync("INSERT INTO assignments (type, actor_id, target_id, role_id) VALUES (@type, @actor, @target, @role) ON CONFLICT DO NOTHING",
            new { type, actor, target, role });

    private static string NewId() => Guid.NewGuid().ToString("N");
}

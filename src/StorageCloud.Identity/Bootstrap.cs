using StorageCloud.Identity.Auth;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Identity;

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
        var created = new HashSet<string>();
        foreach (var name in new[] { "admin", "member", "reader", "service", options.ResellerAdminRole })
        {
            var existing = (await store.ListAsync<RoleRow>(("name", name))).FirstOrDefault(x => x.DomainId is null)?.Id;
            if (existing is null) created.Add(name);
            roles[name] = await EnsureAsync(store, existing, () => new RoleRow { Id = NewId(), Name = name });
        }
        // Keystone's bootstrap rules: admin implies member, member implies reader. Only with a role made just now, so
        // that a rule an operator removed is not brought back at the next start.
        foreach (var (prior, implied) in new[] { ("admin", "member"), ("member", "reader") })
            if (created.Contains(prior) || created.Contains(implied))
                await store.InsertAsync(new ImpliedRoleRow { PriorRoleId = roles[prior], ImpliedRoleId = roles[implied] });
        var adminProject = await EnsureAsync(store, await ProjectIdAsync(store, "admin"), () => new ProjectRow { Id = NewId(), Name = "admin", DomainId = DefaultDomainId, Description = "Bootstrap project for initializing the cloud." });
        await EnsureAsync(store, await ProjectIdAsync(store, "service"), () => new ProjectRow { Id = NewId(), Name = "service", DomainId = DefaultDomainId, Description = "Project for the services' own users." });
        var admin = await EnsureAsync(store, (await store.ListAsync<UserRow>(("name", "admin"), ("domain_id", DefaultDomainId))).FirstOrDefault()?.Id,
            () => new UserRow { Id = NewId(), Name = "admin", DomainId = DefaultDomainId, PasswordHash = PasswordHasher.Hash(adminPassword, options.PasswordHashRounds), DefaultProjectId = null });
        await Grant(store, "UserProject", admin, adminProject, roles["admin"]);
        await Grant(store, "UserSystem", admin, "all", roles["admin"]);

        await store.InsertAsync(new RegionRow { Id = region });
        await SyncCatalogAsync(store, region, catalog);
    }

    /// <summary>The description of catalog services the bootstrap manages.</summary>
    public const string ManagedDescription = "Managed by StorageCloud: listed while its role runs";

    // Services earlier versions registered for roles that were not built yet (their endpoints answered nothing).
    private static readonly string[] UnmanagedLegacyNames = ["glance", "cinder", "cinderv3", "nova", "neutron"];

    /// <summary>
    /// The catalog follows the services that run: entries of running services are added (or their URLs corrected), and
    /// managed entries of services that no longer run are removed. Services an operator created are left alone.
    /// </summary>
    private static async Task SyncCatalogAsync(IdentityStore store, string region, IReadOnlyList<CatalogEntry> catalog)
    {
        var services = await store.ListAsync<ServiceRow>();
        foreach (var existing in services)
        {
            var managed = existing.Description == ManagedDescription || (existing.Description.Length == 0 && UnmanagedLegacyNames.Contains(existing.Name));
            if (!managed || catalog.Any(e => e.Type == existing.Type)) continue;
            await store.ExecuteAsync("DELETE FROM endpoints WHERE service_id = @id", new { id = existing.Id });
            await store.DeleteAsync<ServiceRow>(existing.Id);
        }
        foreach (var entry in catalog)
        {
            var service = services.FirstOrDefault(s => s.Type == entry.Type);
            if (service is null)
            {
                service = new ServiceRow { Id = NewId(), Type = entry.Type, Name = entry.Name, Description = ManagedDescription };
                await store.InsertAsync(service);
            }
            else if (service.Description != ManagedDescription && service.Description.Length > 0) continue;
            var endpoints = await store.ListAsync<EndpointRow>(("service_id", service.Id));
            foreach (var iface in new[] { "public", "internal", "admin" })
            {
                var endpoint = endpoints.FirstOrDefault(e => e.Interface == iface && e.RegionId == region);
                if (endpoint is null) await store.InsertAsync(new EndpointRow { Id = NewId(), ServiceId = service.Id, Interface = iface, RegionId = region, Url = entry.Url });
                else if (endpoint.Url != entry.Url)
                {
                    endpoint.Url = entry.Url;
                    await store.UpdateAsync(endpoint);
                }
            }
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

using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/domains/{id}/config: a domain's identity-driver settings (Keystone's domain-specific configuration), and the
// defaults at /v3/domains/config/.../default. The appliance keeps every domain in SQL, so the settings are stored and
// shown but drive nothing; clients that manage them (Horizon, Tempest) still find Keystone's behaviour.
public sealed partial class IdentityApi
{
    /// <summary>The options a domain may set, per group, as Keystone allows them.</summary>
    private static readonly Dictionary<string, string[]> DomainConfigOptions = new()
    {
        ["identity"] = ["driver", "list_limit"],
        ["ldap"] =
        [
            "url", "user", "suffix", "query_scope", "page_size", "alias_dereferencing", "debug_level", "chase_referrals",
            "user_tree_dn", "user_filter", "user_objectclass", "user_id_attribute", "user_name_attribute", "user_mail_attribute",
            "user_description_attribute", "user_pass_attribute", "user_enabled_attribute", "user_enabled_invert",
            "user_enabled_mask", "user_enabled_default", "user_attribute_ignore", "user_default_project_id_attribute",
            "user_enabled_emulation", "user_enabled_emulation_dn", "user_enabled_emulation_use_group_config",
            "user_additional_attribute_mapping", "group_tree_dn", "group_filter", "group_objectclass", "group_id_attribute",
            "group_name_attribute", "group_members_are_ids", "group_member_attribute", "group_desc_attribute",
            "group_attribute_ignore", "group_additional_attribute_mapping", "tls_cacertfile", "tls_cacertdir", "use_tls",
            "tls_req_cert", "use_pool", "pool_size", "pool_retry_max", "pool_retry_delay", "pool_connection_timeout",
            "pool_connection_lifetime", "use_auth_pool", "auth_pool_size", "auth_pool_connection_lifetime",
        ],
    };

    /// <summary>Options that may be set but are never shown again (the LDAP bind password).</summary>
    private static readonly Dictionary<string, string[]> SensitiveDomainConfigOptions = new() { ["identity"] = [], ["ldap"] = ["password"] };

    private void MapDomainConfig()
    {
        Map("GET", "/v3/domains/config/default", r => DefaultDomainConfigAsync(r, null, null));
        Map("GET", "/v3/domains/config/{group}/default", r => DefaultDomainConfigAsync(r, r.Args[0], null));
        Map("GET", "/v3/domains/config/{group}/{option}/default", r => DefaultDomainConfigAsync(r, r.Args[0], r.Args[1]));

        Map("PUT", "/v3/domains/{id}/config", async r =>
        {
            await r.EnforceAsync("create_domain_config");
            var domain = await DomainForConfigAsync(r.Args[0]);
            var config = DomainConfigBody(await JsonBody.ReadAsync(r.Context));
            ValidateDomainConfig(config);
            var existing = await Store.GetAsync<DomainConfigRow>(domain.Id);
            var row = new DomainConfigRow { Id = domain.Id, Config = Views.Compact(config) };
            // Creating replaces whatever was there; only a first configuration is "created".
            if (existing is null) await Store.InsertAsync(row);
            else await Store.UpdateAsync(row);
            await WriteAsync(r.Context, existing is null ? 201 : 200, new JsonObject { ["config"] = VisibleDomainConfig(config) });
        });
        Map("GET", "/v3/domains/{id}/config", r => GetDomainConfigAsync(r, null, null));
        Map("GET", "/v3/domains/{id}/config/{group}", r => GetDomainConfigAsync(r, r.Args[1], null));
        Map("GET", "/v3/domains/{id}/config/{group}/{option}", r => GetDomainConfigAsync(r, r.Args[1], r.Args[2]));
        Map("PATCH", "/v3/domains/{id}/config", r => UpdateDomainConfigAsync(r, null, null));
        Map("PATCH", "/v3/domains/{id}/config/{group}", r => UpdateDomainConfigAsync(r, r.Args[1], null));
        Map("PATCH", "/v3/domains/{id}/config/{group}/{option}", r => UpdateDomainConfigAsync(r, r.Args[1], r.Args[2]));
        Map("DELETE", "/v3/domains/{id}/config", r => DeleteDomainConfigAsync(r, null, null));
        Map("DELETE", "/v3/domains/{id}/config/{group}", r => DeleteDomainConfigAsync(r, r.Args[1], null));
        Map("DELETE", "/v3/domains/{id}/config/{group}/{option}", r => DeleteDomainConfigAsync(r, r.Args[1], r.Args[2]));
    }

    private async Task DefaultDomainConfigAsync(IdentityRequest r, string? group, string? option)
    {
        await r.EnforceAsync("get_domain_config_default");
        ValidateDomainConfigPath(group, option);
        if (option is not null && Array.IndexOf(DomainConfigOptions[group!], option) < 0)
            throw InvalidDomainConfig($"Reading the default for option {option} in group {group} is not supported");
        var defaults = DomainConfigDefaults();
        JsonObject answer;
        if (group is null) answer = defaults;
        else if (option is null) answer = new JsonObject { [group] = defaults[group]!.DeepClone() };
        else answer = new JsonObject { [option] = defaults[group]![option]?.DeepClone() };
        await WriteAsync(r.Context, 200, new JsonObject { ["config"] = answer });
    }

    private async Task GetDomainConfigAsync(IdentityRequest r, string? group, string? option)
    {
        await r.EnforceAsync("get_domain_config");
        var domain = await DomainForConfigAsync(r.Args[0]);
        ValidateDomainConfigPath(group, option);
        var visible = VisibleDomainConfig(await StoredDomainConfigAsync(domain.Id));
        JsonObject answer;
        if (group is null)
            answer = visible.Count > 0 ? visible : throw DomainConfigNotFound(domain.Id, "any options");
        else if (visible[group] is not JsonObject options)
            throw DomainConfigNotFound(domain.Id, $"group {group}");
        else if (option is null)
            answer = new JsonObject { [group] = options.DeepClone() };
        else
            answer = options.ContainsKey(option) ? new JsonObject { [option] = options[option]?.DeepClone() }
                : throw DomainConfigNotFound(domain.Id, $"option {option} in group {group}");
        await WriteAsync(r.Context, 200, new JsonObject { ["config"] = answer });
    }

    private async Task UpdateDomainConfigAsync(IdentityRequest r, string? group, string? option)
    {
        await r.EnforceAsync("update_domain_config");
        var domain = await DomainForConfigAsync(r.Args[0]);
        var given = DomainConfigBody(await JsonBody.ReadAsync(r.Context));
        ValidateDomainConfigPath(group, option);
        // An option's own URL takes just {"option": value}; seen as a group of one, the rules below apply alike.
        var update = option is null ? given : new JsonObject { [group!] = given.DeepClone() };
        ValidateDomainConfig(update);
        var stored = await StoredDomainConfigAsync(domain.Id);
        if (group is not null)
        {
            if (update.Count != 1 || !update.ContainsKey(group))
                throw InvalidDomainConfig($"Trying to update group {group}, so that, and only that, group must be specified in the config");
            var options = (JsonObject)update[group]!;
            if (option is not null && (options.Count != 1 || !options.ContainsKey(option)))
                throw InvalidDomainConfig($"Trying to update option {option} in group {group}, so that, and only that, option must be specified in the config");
            // An update changes what is there; adding a group or option is a create.
            if (stored[group] is not JsonObject current) throw DomainConfigNotFound(domain.Id, $"group {group}");
            if (option is not null && !current.ContainsKey(option)) throw DomainConfigNotFound(domain.Id, $"option {option} in group {group}");
        }
        foreach (var (name, options) in update)
        {
            if (stored[name] is not JsonObject current) stored[name] = current = new JsonObject();
            foreach (var (key, value) in (JsonObject)options!) current[key] = value?.DeepClone();
        }
        await SaveDomainConfigAsync(domain.Id, stored);
        await WriteAsync(r.Context, 200, new JsonObject { ["config"] = VisibleDomainConfig(stored) });
    }

    private async Task DeleteDomainConfigAsync(IdentityRequest r, string? group, string? option)
    {
        await r.EnforceAsync("delete_domain_config");
        var domain = await DomainForConfigAsync(r.Args[0]);
        ValidateDomainConfigPath(group, option);
        if (group is null)
        {
            await Store.DeleteAsync<DomainConfigRow>(domain.Id);
            await NoContent(r.Context);
            return;
        }
        var stored = await StoredDomainConfigAsync(domain.Id);
        if (stored[group] is not JsonObject current || current.Count == 0) throw DomainConfigNotFound(domain.Id, $"group {group}");
        if (option is null) stored.Remove(group);
        else if (!current.Remove(option)) throw DomainConfigNotFound(domain.Id, $"option {option} in group {group}");
        else if (current.Count == 0) stored.Remove(group);
        await SaveDomainConfigAsync(domain.Id, stored);
        await NoContent(r.Context);
    }

    private async Task<DomainRow> DomainForConfigAsync(string id) => await Store.GetAsync<DomainRow>(id) ?? throw IdentityError.NotFound("domain", id);

    private async Task<JsonObject> StoredDomainConfigAsync(string domainId) =>
        await Store.GetAsync<DomainConfigRow>(domainId) is { } row ? ExtensionViews.ParseObject(row.Config) : new JsonObject();

    private async Task SaveDomainConfigAsync(string domainId, JsonObject config)
    {
        var row = new DomainConfigRow { Id = domainId, Config = Views.Compact(config) };
        if (config.Count == 0) await Store.DeleteAsync<DomainConfigRow>(domainId);
        else if (!await Store.InsertAsync(row)) await Store.UpdateAsync(row);
    }

    private static JsonObject DomainConfigBody(JsonObject body) => JsonBody.Object(body, "config", "request body");

    /// <summary>Refuses groups and options Keystone does not let a domain set (403, as Keystone answers).</summary>
    private static void ValidateDomainConfigPath(string? group, string? option)
    {
        if (group is null) return;
        if (!DomainConfigOptions.ContainsKey(group)) throw InvalidDomainConfig($"Group {group} is not supported for domain specific configurations");
        if (option is not null && Array.IndexOf(DomainConfigOptions[group], option) < 0 && Array.IndexOf(SensitiveDomainConfigOptions[group], option) < 0)
            throw InvalidDomainConfig($"Option {option} in group {group} is not supported for domain specific configurations");
    }

    private static void ValidateDomainConfig(JsonObject config)
    {
        if (config.Count == 0) throw InvalidDomainConfig("No options specified");
        foreach (var (group, options) in config)
        {
            if (options is not JsonObject { Count: > 0 } members)
                throw InvalidDomainConfig($"The value of group {group} specified in the config should be a dictionary of options");
            foreach (var (option, _) in members) ValidateDomainConfigPath(group, option);
        }
    }

    /// <summary>The configuration without its sensitive options, which are written but never read back.</summary>
    private static JsonObject VisibleDomainConfig(JsonObject config)
    {
        var visible = new JsonObject();
        foreach (var (group, options) in config)
        {
            if (options is not JsonObject members || !SensitiveDomainConfigOptions.TryGetValue(group, out var sensitive)) continue;
            var shown = new JsonObject();
            foreach (var (option, value) in members)
                if (Array.IndexOf(sensitive, option) < 0) shown[option] = value?.DeepClone();
            if (shown.Count > 0) visible[group] = shown;
        }
        return visible;
    }

    private static IdentityError InvalidDomainConfig(string reason) => new(403, $"Invalid domain specific configuration: {reason}.");

    private static IdentityError DomainConfigNotFound(string domainId, string what) =>
        new(404, $"Could not find {what} in domain configuration for domain {domainId}.");

    /// <summary>Keystone's defaults for the options a domain may set (its keystone.conf defaults for [identity] and [ldap]).</summary>
    private static JsonObject DomainConfigDefaults() => new()
    {
        ["identity"] = new JsonObject { ["driver"] = "sql", ["list_limit"] = null },
        ["ldap"] = new JsonObject
        {
            ["url"] = "ldap://localhost", ["user"] = null, ["suffix"] = "cn=example,cn=com", ["query_scope"] = "one", ["page_size"] = 0,
            ["alias_dereferencing"] = "default", ["debug_level"] = null, ["chase_referrals"] = null, ["user_tree_dn"] = null,
            ["user_filter"] = null, ["user_objectclass"] = "inetOrgPerson", ["user_id_attribute"] = "cn", ["user_name_attribute"] = "sn",
            ["user_mail_attribute"] = "mail", ["user_description_attribute"] = "description", ["user_pass_attribute"] = "userPassword",
            ["user_enabled_attribute"] = "enabled", ["user_enabled_invert"] = false, ["user_enabled_mask"] = 0,
            ["user_enabled_default"] = "True", ["user_attribute_ignore"] = new JsonArray("default_project_id"),
            ["user_default_project_id_attribute"] = null, ["user_enabled_emulation"] = false, ["user_enabled_emulation_dn"] = null,
            ["user_enabled_emulation_use_group_config"] = false, ["user_additional_attribute_mapping"] = new JsonArray(),
            ["group_tree_dn"] = null, ["group_filter"] = null, ["group_objectclass"] = "groupOfNames", ["group_id_attribute"] = "cn",
            ["group_name_attribute"] = "ou", ["group_members_are_ids"] = false, ["group_member_attribute"] = "member",
            ["group_desc_attribute"] = "description", ["group_attribute_ignore"] = new JsonArray(),
            ["group_additional_attribute_mapping"] = new JsonArray(), ["tls_cacertfile"] = null, ["tls_cacertdir"] = null,
            ["use_tls"] = false, ["tls_req_cert"] = "demand", ["use_pool"] = true, ["pool_size"] = 10, ["pool_retry_max"] = 3,
            ["pool_retry_delay"] = 0.1, ["pool_connection_timeout"] = -1, ["pool_connection_lifetime"] = 600, ["use_auth_pool"] = true,
            ["auth_pool_size"] = 100, ["auth_pool_connection_lifetime"] = 60,
        },
    };
}

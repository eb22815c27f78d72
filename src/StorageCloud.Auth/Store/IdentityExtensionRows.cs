namespace StorageCloud.Auth.Store;

// Rows of Keystone's extension resources (OS-OAUTH1 consumers, policies, OS-EP-FILTER endpoint groups, domain
// configurations) and of its security-compliance state. Nothing outside the identity service reads them; they share
// the identity database so one migration list keeps every identity table in step.

/// <summary>An OAuth 1.0a consumer; only a hash of its secret is kept, since the secret is shown once and never again.</summary>
public sealed class ConsumerRow
{
    public string Id { get; set; } = "";
    public string? Description { get; set; }
    public string SecretHash { get; set; } = "";
    /// <summary>JSON object of the attributes Keystone accepts beyond the description.</summary>
    public string Extra { get; set; } = "{}";
}

/// <summary>A policy blob stored for other services (Keystone keeps it verbatim and never evaluates it).</summary>
public sealed class PolicyRow
{
    public string Id { get; set; } = "";
    public string Type { get; set; } = "";
    public string Blob { get; set; } = "";
    /// <summary>JSON object of the attributes Keystone accepts beyond type and blob.</summary>
    public string Extra { get; set; } = "{}";
}

/// <summary>A named endpoint filter: the endpoints whose service_id, region_id and interface match <see cref="Filters"/>.</summary>
public sealed class EndpointGroupRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    /// <summary>JSON object: any of service_id, region_id, interface.</summary>
    public string Filters { get; set; } = "{}";
}

/// <summary>A domain's configuration overrides; <see cref="Id"/> is the domain's id.</summary>
public sealed class DomainConfigRow
{
    public string Id { get; set; } = "";
    /// <summary>JSON object: {"identity": {...}, "ldap": {...}}, option values as given.</summary>
    public string Config { get; set; } = "{}";
}

/// <summary>One of a user's past password hashes, kept while a history length is configured.</summary>
public sealed class PasswordHistoryRow
{
    public string UserId { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    /// <summary>µs since the epoch; strictly increasing per user, so the newest entries sort first.</summary>
    public long CreatedAt { get; set; }
}

/// <summary>A user's run of failed password logins; <see cref="Id"/> is the user's id.</summary>
public sealed class UserLockoutRow
{
    public string Id { get; set; } = "";
    public long Failures { get; set; }
    /// <summary>µs since the epoch of the latest failure.</summary>
    public long LastFailure { get; set; }
}

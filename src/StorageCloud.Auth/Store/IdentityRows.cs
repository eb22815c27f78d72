namespace StorageCloud.Auth.Store;

// Rows of the identity tables, as Dapper fills them. Flags are BIGINT 0/1 so both engines store them alike.

/// <summary>A domain: the namespace of projects, users and groups.</summary>
public sealed class DomainRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public long Enabled { get; set; } = 1;
}

/// <summary>A project (tenant): owns resources such as its Swift account.</summary>
public sealed class ProjectRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public string? ParentId { get; set; }
    public string Description { get; set; } = "";
    public long Enabled { get; set; } = 1;
    /// <summary>JSON array of the project's tags.</summary>
    public string Tags { get; set; } = "[]";
}

/// <summary>A user; <see cref="Extra"/> holds the free-form attributes (email, description...) as JSON.</summary>
public sealed class UserRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public long Enabled { get; set; } = 1;
    public string? PasswordHash { get; set; }
    public string? DefaultProjectId { get; set; }
    public string Extra { get; set; } = "{}";
}

/// <summary>A group of users, which role assignments can name.</summary>
public sealed class GroupRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string DomainId { get; set; } = "";
    public string Description { get; set; } = "";
}

/// <summary>A role; one with a <see cref="DomainId"/> is domain-specific: never in tokens itself, only through the global roles it implies.</summary>
public sealed class RoleRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string? DomainId { get; set; }
}

/// <summary>A role granted to a user or group on a project, a domain or the system.</summary>
public sealed class AssignmentRow
{
    /// <summary>UserProject, GroupProject, UserDomain, GroupDomain, UserSystem or GroupSystem.</summary>
    public string Type { get; set; } = "";
    public string ActorId { get; set; } = "";
    /// <summary>The project or domain id, or "all" for the system.</summary>
    public string TargetId { get; set; } = "";
    public string RoleId { get; set; } = "";
    /// <summary>1 for OS-INHERIT grants: they apply to the projects below the target (the domain's, or the project's subtree), not the target itself.</summary>
    public long Inherited { get; set; }
}

/// <summary>A catalog region.</summary>
public sealed class RegionRow
{
    public string Id { get; set; } = "";
    public string Description { get; set; } = "";
    public string? ParentRegionId { get; set; }
}

/// <summary>A catalog service.</summary>
public sealed class ServiceRow
{
    public string Id { get; set; } = "";
    public string Type { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public long Enabled { get; set; } = 1;
}

/// <summary>One interface (public, internal, admin) of a service in a region.</summary>
public sealed class EndpointRow
{
    public string Id { get; set; } = "";
    public string ServiceId { get; set; } = "";
    public string Interface { get; set; } = "";
    public string? RegionId { get; set; }
    public string Url { get; set; } = "";
    public long Enabled { get; set; } = 1;
}

/// <summary>A credential; for type ec2 the blob is {"access", "secret"} and <see cref="AccessKey"/> indexes it.</summary>
public sealed class CredentialRow
{
    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string? ProjectId { get; set; }
    public string Type { get; set; } = "";
    public string Blob { get; set; } = "";
    public string? AccessKey { get; set; }
}

/// <summary>An application credential: a secret that authenticates as its user on one project with chosen roles.</summary>
public sealed class AppCredentialRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string UserId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>µs since the epoch (Keystone echoes the expiry to the microsecond), or null for never.</summary>
    public long? ExpiresAt { get; set; }
    public long Unrestricted { get; set; }
    /// <summary>JSON array of role ids.</summary>
    public string Roles { get; set; } = "[]";
}

/// <summary>A revocation event: tokens matching it and issued before <see cref="IssuedBefore"/> (µs) are invalid.</summary>
public sealed class RevocationRow
{
    public string? AuditId { get; set; }
    public string? UserId { get; set; }
    public string? ProjectId { get; set; }
    public long IssuedBefore { get; set; }
    public long ExpiresAt { get; set; }
}

using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Dashboard;

/// <summary>The dashboard's settings.</summary>
public sealed record DashboardSettings
{
    /// <summary>The identity service users log in with (its catalog names the rest).</summary>
    public string? IdentityUrl { get; init; }

    /// <summary>How long a session lasts without a request.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>True when the session cookie may travel only over HTTPS (behind a TLS-terminating proxy).</summary>
    public bool SecureCookies { get; init; }

    /// <summary>The node's ring directory, which the cluster pages read (not an option: the host's RingDir).</summary>
    public string? RingDir { get; init; }

    /// <summary>The cluster's path hasher, for placing dispersion samples.</summary>
    public Common.Hashing.PathHasher? Hasher { get; init; }
}

/// <summary>The "Dashboard" section.</summary>
public static class DashboardConfig
{
    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Dashboard");

    private static readonly StringOption IdentityUrl = Section.String("IdentityUrl", null, "base URL of the identity service users log in with",
        defaultNote: "the identity role's URL when it runs in this process");
    private static readonly Int32Option IdleMinutes = Section.Int32("IdleMinutes", 30, 1, 24 * 60, "minutes a dashboard session lasts without a request");
    private static readonly BoolOption SecureCookies = Section.Bool("SecureCookies", false,
        "send the session cookie only over HTTPS (set it when a TLS proxy fronts the dashboard)");

    /// <summary>Reads the section.</summary>
    public static DashboardSettings Read(IConfiguration c) => new()
    {
        IdentityUrl = IdentityUrl.Read(c)?.TrimEnd('/'),
        IdleTimeout = TimeSpan.FromMinutes(IdleMinutes.Read(c)),
        SecureCookies = SecureCookies.Read(c),
    };
}

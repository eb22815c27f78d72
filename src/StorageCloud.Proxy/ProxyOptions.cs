using StorageCloud.Common.Constraints;

namespace StorageCloud.Proxy;

/// <summary>Everything the Swift front end is configured with (Swift's proxy-server.conf and its filters).</summary>
public sealed record ProxyOptions
{
    /// <summary>Request constraints (names, metadata, object size).</summary>
    public SwiftConstraints Constraints { get; init; } = SwiftConstraints.Default;

    /// <summary>tempauth's users: "account:user" → key and groups.</summary>
    public IReadOnlyList<TempAuthUser> Users { get; init; } = TempAuthUser.FunctionalTestUsers;

    /// <summary>Prefix of the accounts tempauth owns (reseller_prefix).</summary>
    public string ResellerPrefix { get; init; } = "AUTH_";

    /// <summary>How long a tempauth token lives (token_life).</summary>
    public TimeSpan TokenLife { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Methods a temp URL may be made for.</summary>
    public IReadOnlyList<string> TempUrlMethods { get; init; } = ["GET", "HEAD", "PUT", "POST", "DELETE"];

    /// <summary>Digests a temp URL signature may use.</summary>
    public IReadOnlyList<string> TempUrlDigests { get; init; } = ["sha1", "sha256", "sha512"];

    /// <summary>Origins allowed for CORS on every container, besides each container's own list (cors_allow_origin).</summary>
    public IReadOnlyList<string> CorsAllowOrigin { get; init; } = [];

    /// <summary>Headers every CORS response exposes besides the defaults (cors_expose_headers).</summary>
    public IReadOnlyList<string> CorsExposeHeaders { get; init; } = [];

    /// <summary>Only origins a container allows get CORS headers (strict_cors_mode).</summary>
    public bool StrictCorsMode { get; init; } = true;

    /// <summary>Allow PUT and DELETE of accounts by reseller admins (allow_account_management).</summary>
    public bool AllowAccountManagement { get; init; }

    /// <summary>Optional features switched off (names as in <see cref="SwiftProxy.OptionalFeatures"/>), as if left out of Swift's pipeline.</summary>
    public IReadOnlySet<string> DisabledFeatures { get; init; } = new HashSet<string>();

    /// <summary>The policy lines /crossdomain.xml serves (Swift's cross_domain_policy).</summary>
    public string CrossDomainPolicy { get; init; } = DefaultCrossDomainPolicy;

    /// <summary>Swift's default cross-domain policy: any site.</summary>
    public const string DefaultCrossDomainPolicy = "<allow-access-from domain=\"*\" secure=\"false\" />";

    /// <summary>domain_remap's storage domains: "&lt;container&gt;.&lt;account&gt;.&lt;domain&gt;" hosts name an account and container.</summary>
    public IReadOnlyList<string> StorageDomains { get; init; } = ["example.com"];

    /// <summary>The S3 API's base domain for virtual-hosted requests ("bucket.&lt;domain&gt;"); path style only when null.</summary>
    public string? S3BaseDomain { get; init; }

    /// <summary>Regions S3 requests may be signed for (SigV4's credential scope); the first is the one errors name.</summary>
    public IReadOnlyList<string> S3Regions { get; init; } = ["us-east-1", "RegionOne"];

    /// <summary>Longest a client may pause while sending a body (client_timeout).</summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>A tempauth user: "account:user", its key and its groups (.admin, .reseller_admin or others).</summary>
public sealed record TempAuthUser(string Account, string User, string Key, IReadOnlyList<string> Groups)
{
    /// <summary>The users of Swift's functional-test configuration, which the all-in-one appliance serves.</summary>
    public static readonly IReadOnlyList<TempAuthUser> FunctionalTestUsers =
    [
        new("admin", "admin", "admin", [".admin", ".reseller_admin"]),
        new("test", "tester", "testing", [".admin"]),
        new("test", "tester2", "testing2", [".admin"]),
        new("test", "tester3", "testing3", []),
        new("test2", "tester2", "testing2", [".admin"]),
        new("test5", "tester5", "testing5", ["service"]),
    ];
}

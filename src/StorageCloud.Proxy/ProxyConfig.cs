using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Constraints;

namespace StorageCloud.Proxy;

/// <summary>The Swift and S3 front end's options in the "Proxy" section (the object layer declares its timeouts there too).</summary>
public static class ProxyConfig
{
    /// <summary>The front end's options in the "Proxy" section.</summary>
    public static readonly OptionSection Section = new("Proxy");

    private static readonly ListOption Users = Section.List("Users", [],
        "tempauth users, each `\"account:user key [group ...]\"` (groups `.admin`, `.reseller_admin` or any name); the default is the table in docs/architecture.md (`test:tester/testing` ...)",
        defaultNote: "Swift's functional-test users");
    private static readonly Int32Option TokenLifeSeconds = Section.Int32("TokenLifeSeconds", 86400, 1, 365 * 86400, "how long a tempauth token lives");
    private static readonly BoolOption AllowAccountManagement = Section.Bool("AllowAccountManagement", false, "lets reseller admins PUT and DELETE accounts");
    private static readonly ListOption CorsAllowOrigin = Section.List("CorsAllowOrigin", [], "origins allowed on every container besides each container's own list");
    private static readonly ListOption CorsExposeHeaders = Section.List("CorsExposeHeaders", [], "headers exposed on every CORS answer besides Swift's defaults");
    private static readonly BoolOption StrictCorsMode = Section.Bool("StrictCorsMode", true, "only origins a container allows get `Access-Control-*` headers");

    /// <summary>Proxy:KeystoneAuth (its default depends on the roles that run).</summary>
    public static readonly BoolOption KeystoneAuth = Section.Bool("KeystoneAuth", false,
        "the proxy accepts identity tokens (and S3 requests signed with EC2 credentials) beside tempauth's; a proxy on another node needs the identity database and key repository (`Identity:ConnectionString`, `Identity:KeyRepository`)",
        defaultNote: "`true` when this process runs the `identity` role");

    private static readonly StringOption S3BaseDomain = Section.String("S3BaseDomain", null,
        "base domain of virtual-hosted S3 requests: `Host: <bucket>.<domain>` names the bucket (path-style requests always work)");
    private static readonly ListOption S3Regions = Section.List("S3Regions", ["us-east-1", "RegionOne"],
        "regions an S3 request may be signed for (SigV4's credential scope; s3api's `location`): a request signed for another is refused with AuthorizationHeaderMalformed, as AWS refuses it; the first is the region errors name (the default also admits the identity catalog's RegionOne)");
    private static readonly StringOption CrossDomainPolicy = Section.String("CrossDomainPolicy", ProxyOptions.DefaultCrossDomainPolicy,
        "the `<allow-access-from .../>` lines `/crossdomain.xml` serves to Flash and Silverlight clients (Swift's `cross_domain_policy`)");
    private static readonly ListOption StorageDomains = Section.List("StorageDomains", ["example.com"],
        "domain_remap's storage domains: a request to `<container>.<account>.<domain>` (or `<account>.<domain>`, the account spelled `AUTH-<name>` as DNS allows) is served as `/v1/<account>/<container>/<path>`; Swift's default");
    private static readonly ListOption DisabledFeatures = Section.List("DisabledFeatures", [],
        "optional features left out of the pipeline (and of `/info`), as if removed from Swift's paste pipeline: any of `" + string.Join("`, `", SwiftProxy.OptionalFeatures) + "`");

    /// <summary>Reads the front end's settings.</summary>
    public static ProxyOptions Read(IConfiguration c, SwiftConstraints constraints)
    {
        var users = new List<TempAuthUser>();
        foreach (var line in Users.Read(c))
        {
            // "account:user key [group ...]", as tempauth's user_<account>_<user> = <key> [group ...] lines.
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var colon = parts.Length > 0 ? parts[0].IndexOf(':') : -1;
            if (parts.Length < 2 || colon <= 0 || colon == parts[0].Length - 1)
                throw new ConfigurationException(Users.Key, $"each user is \"account:user key [group ...]\" (got '{line}')");
            users.Add(new TempAuthUser(parts[0][..colon], parts[0][(colon + 1)..], parts[1], parts[2..]));
        }
        var disabled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var feature in DisabledFeatures.Read(c))
        {
            if (Array.IndexOf(SwiftProxy.OptionalFeatures, feature) < 0)
                throw new ConfigurationException(DisabledFeatures.Key, $"unknown feature '{feature}' (known: {string.Join(", ", SwiftProxy.OptionalFeatures)})");
            disabled.Add(feature);
        }
        var domain = S3BaseDomain.Read(c);
        return new ProxyOptions
        {
            Constraints = constraints,
            Users = users.Count > 0 ? users : TempAuthUser.FunctionalTestUsers,
            TokenLife = TimeSpan.FromSeconds(TokenLifeSeconds.Read(c)),
            AllowAccountManagement = AllowAccountManagement.Read(c),
            CorsAllowOrigin = CorsAllowOrigin.Read(c),
            CorsExposeHeaders = CorsExposeHeaders.Read(c),
            StrictCorsMode = StrictCorsMode.Read(c),
            DisabledFeatures = disabled,
            StorageDomains = StorageDomains.Read(c),
            CrossDomainPolicy = CrossDomainPolicy.Read(c) ?? ProxyOptions.DefaultCrossDomainPolicy,
            S3BaseDomain = domain?.TrimStart('.'),
            S3Regions = S3Regions.Read(c) is { Count: > 0 } regions ? regions : throw new ConfigurationException(S3Regions.Key, "names at least one region"),
        };
    }
}

using System.Security;
using System.Text;
using System.Xml;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>One grant of an S3 ACL: a permission to a canonical user (Id) or a group (Uri).</summary>
public sealed record AclGrant(string Permission, string? Id, string? Uri);

/// <summary>
/// An S3 access control list: its owner and grants, in the order they were given (clients compare in order).
/// Stored as one header value: "1;owner;PERM=u:id;PERM=g:uri...", every part percent-encoded.
/// </summary>
public sealed record AccessControlList(string Owner, IReadOnlyList<AclGrant> Grants)
{
    public const string AllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
    public const string AuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
    public const string LogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery";

    /// <summary>The owner a grant-less request's writer is shown as: no real user's ID, which always has a colon.</summary>
    public const string AnonymousOwner = "anonymous";

    private static readonly string[] Permissions = ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"];

    private static readonly (string Header, string Permission)[] GrantHeaders =
    [
        ("x-amz-grant-read", "READ"), ("x-amz-grant-write", "WRITE"), ("x-amz-grant-read-acp", "READ_ACP"),
        ("x-amz-grant-write-acp", "WRITE_ACP"), ("x-amz-grant-full-control", "FULL_CONTROL"),
    ];

    /// <summary>The canned ACLs, as S3 defines them.</summary>
    public static readonly string[] CannedNames =
        ["private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write", "aws-exec-read"];

    /// <summary>A canned ACL's grants. Groups come before the owner's grant, as RGW lists them.</summary>
    public static AccessControlList Canned(string canned, string owner, string? bucketOwner)
    {
        var grants = new List<AclGrant>();
        switch (canned)
        {
            case "public-read":
                grants.Add(new("READ", null, AllUsers));
                break;
            case "public-read-write":
                grants.Add(new("READ", null, AllUsers));
                grants.Add(new("WRITE", null, AllUsers));
                break;
            case "authenticated-read":
                grants.Add(new("READ", null, AuthenticatedUsers));
                break;
            case "log-delivery-write":
                grants.Add(new("WRITE", null, LogDelivery));
                grants.Add(new("READ_ACP", null, LogDelivery));
                break;
        }
        grants.Add(new("FULL_CONTROL", owner, null));
        // The bucket owner's grant is meaningful only for an object someone else owns.
        if (bucketOwner is not null && bucketOwner != owner)
        {
            if (canned == "bucket-owner-read") grants.Add(new("READ", bucketOwner, null));
            if (canned == "bucket-owner-full-control") grants.Add(new("FULL_CONTROL", bucketOwner, null));
        }
        return new AccessControlList(owner, grants);
    }

    /// <summary>True when the ACL is just the owner's full control: nothing to store.</summary>
    public bool IsPrivate => Grants.Count == 1 && Grants[0] is { Permission: "FULL_CONTROL", Uri: null } only && only.Id == Owner;

    /// <summary>True when a grant names someone other than the owner (the bucket must then be found by name).</summary>
    public bool GrantsOthers => Grants.Any(g => g.Uri is not null || g.Id != Owner);

    /// <summary>True when a group grant gives the permission (or FULL_CONTROL) to everyone, or to every signed caller.</summary>
    public bool GroupHas(string uri, string permission) => Grants.Any(g => g.Uri == uri && (g.Permission == permission || g.Permission == "FULL_CONTROL"));

    /// <summary>
    /// True when the ACL gives the caller the permission. A user grant matches only the caller's own unambiguous
    /// name (one of its Swift groups "account:user" without wildcards: a keystone user's names only when they are
    /// unique, in the default domain), never an anonymous caller; IgnorePublicAcls leaves the groups out.
    /// </summary>
    public bool Allows(S3Principal caller, string permission, bool ignorePublic)
    {
        foreach (var g in Grants)
        {
            if (g.Permission != permission && g.Permission != "FULL_CONTROL") continue;
            if (g.Uri == AllUsers && !ignorePublic) return true;
            if (g.Uri == AuthenticatedUsers && !ignorePublic && !caller.Anonymous) return true;
            if (g.Id is { } id && caller.Identity is { } identity && id.Contains(':') && !id.Contains('*') && identity.Groups.Contains(id)) return true;
        }
        return false;
    }

    /// <summary>The header value this ACL is stored as.</summary>
    public string Encode()
    {
        var sb = new StringBuilder("1;").Append(Uri.EscapeDataString(Owner));
        foreach (var g in Grants)
            sb.Append(';').Append(g.Permission).Append('=').Append(g.Uri is null ? "u:" + Uri.EscapeDataString(g.Id ?? "") : "g:" + Uri.EscapeDataString(g.Uri));
        return sb.ToString();
    }

    /// <summary>
    /// A stored ACL. Nothing stored means the owner's private ACL; the value "public-read" is what objects kept
    /// before grants existed. Anything unreadable counts as private: it never opens more.
    /// </summary>
    public static AccessControlList Decode(string? stored, string fallbackOwner)
    {
        if (stored is null or "") return Canned("private", fallbackOwner, null);
        if (stored == "public-read") return Canned("public-read", fallbackOwner, null);
        var parts = stored.Split(';');
        if (parts.Length < 2 || parts[0] != "1") return Canned("private", fallbackOwner, null);
        var grants = new List<AclGrant>();
        foreach (var part in parts.Skip(2))
        {
            var eq = part.IndexOf('=');
            if (eq < 0 || part.Length < eq + 3) continue;
            var permission = part[..eq];
            var value = Uri.UnescapeDataString(part[(eq + 3)..]);
            grants.Add(part[eq + 1] == 'g' ? new AclGrant(permission, null, value) : new AclGrant(permission, value, null));
        }
        return new AccessControlList(Uri.UnescapeDataString(parts[1]), grants);
    }

    /// <summary>True when the request sets an ACL by header: x-amz-acl or an x-amz-grant-* header.</summary>
    public static bool InHeaders(HttpRequest request) =>
        request.Headers.ContainsKey("x-amz-acl") || GrantHeaders.Any(h => request.Headers.ContainsKey(h.Header));

    /// <summary>The ACL a request's headers set (x-amz-acl, or the x-amz-grant-* headers, not both), or null when they set none.</summary>
    public static AccessControlList? FromHeaders(HttpRequest request, string owner, string? bucketOwner)
    {
        var canned = request.Headers["x-amz-acl"].ToString();
        var granted = GrantHeaders.Where(h => request.Headers.ContainsKey(h.Header)).ToList();
        if (canned.Length > 0 && granted.Count > 0)
            throw new S3Error("InvalidRequest", 400, "Specifying both Canned ACLs and Header Grants is not allowed");
        if (canned.Length > 0)
            return Array.IndexOf(CannedNames, canned) >= 0 ? Canned(canned, owner, bucketOwner) : throw S3Error.InvalidArgument("Invalid canned ACL", "x-amz-acl", canned);
        if (granted.Count == 0) return null;
        var grants = new List<AclGrant>();
        foreach (var (header, permission) in granted)
            foreach (var grantee in SplitGrantees(request.Headers[header].ToString()))
            {
                var eq = grantee.IndexOf('=');
                if (eq <= 0) throw S3Error.InvalidArgument("Invalid grant header", header, grantee);
                var value = grantee[(eq + 1)..].Trim().Trim('"');
                grants.Add(Grantee(grantee[..eq].Trim().ToLowerInvariant() switch
                {
                    "id" => "CanonicalUser",
                    "uri" => "Group",
                    "emailaddress" => "AmazonCustomerByEmail",
                    _ => throw S3Error.InvalidArgument("Invalid grant header", header, grantee),
                }, value, permission));
            }
        return new AccessControlList(owner, grants);
    }

    /// <summary>An AccessControlPolicy document's ACL; its owner stays <paramref name="owner"/> (an ACL never changes who owns what).</summary>
    public static AccessControlList FromXml(XmlDocument doc, string owner)
    {
        if (doc.DocumentElement is not { LocalName: "AccessControlPolicy" } root) throw S3Error.MalformedXml();
        var list = S3Xml.Children(root, "AccessControlList").FirstOrDefault() ?? throw S3Error.MalformedXml();
        var grants = new List<AclGrant>();
        foreach (var grant in S3Xml.Children(list, "Grant"))
        {
            var grantee = S3Xml.Children(grant, "Grantee").FirstOrDefault() ?? throw S3Error.MalformedXml();
            var permission = S3Xml.ChildText(grant, "Permission") ?? throw S3Error.MalformedXml();
            var type = grantee.GetAttribute("type", "http://www.w3.org/2001/XMLSchema-instance");
            if (type.Length == 0)
                type = S3Xml.ChildText(grantee, "URI") is not null ? "Group" : S3Xml.ChildText(grantee, "EmailAddress") is not null ? "AmazonCustomerByEmail" : "CanonicalUser";
            var value = type switch
            {
                "Group" => S3Xml.ChildText(grantee, "URI"),
                "AmazonCustomerByEmail" => S3Xml.ChildText(grantee, "EmailAddress"),
                "CanonicalUser" => S3Xml.ChildText(grantee, "ID"),
                _ => throw S3Error.MalformedXml(),
            };
            grants.Add(Grantee(type, value ?? throw S3Error.MalformedXml(), permission));
        }
        return new AccessControlList(owner, grants);
    }

    private static AclGrant Grantee(string type, string value, string permission)
    {
        if (Array.IndexOf(Permissions, permission) < 0)
            throw new S3Error("MalformedACLError", 400, "The XML you provided was not well-formed or did not validate against our published schema");
        switch (type)
        {
            case "Group":
                return value is AllUsers or AuthenticatedUsers or LogDelivery ? new AclGrant(permission, null, value)
                    : throw S3Error.InvalidArgument("Invalid group uri", "uri", value);
            case "AmazonCustomerByEmail":
                // Users here have no e-mail addresses, so none resolves.
                throw new S3Error("UnresolvableGrantByEmailAddress", 400, "The e-mail address you provided does not match any account on record.");
            default:
                // A canonical ID is "account:user" (keystone "project:user"): anything else names nobody.
                var colon = value.IndexOf(':');
                if (colon <= 0 || colon == value.Length - 1 || value.Contains('*'))
                    throw S3Error.InvalidArgument("Invalid id", "CanonicalUser/ID", value);
                return new AclGrant(permission, value, null);
        }
    }

    private static IEnumerable<string> SplitGrantees(string header)
    {
        // Grantees are comma-separated; a quoted value may hold a comma.
        var start = 0;
        var quoted = false;
        for (var i = 0; i <= header.Length; i++)
        {
            if (i < header.Length && header[i] == '"') quoted = !quoted;
            if (i < header.Length && (header[i] != ',' || quoted)) continue;
            if (header[start..i].Trim() is { Length: > 0 } part) yield return part;
            start = i + 1;
        }
    }

    /// <summary>Writes the AccessControlPolicy document (display names are the IDs, as this API has no others).</summary>
    public Task WriteAsync(HttpContext context)
    {
        var xml = new S3Xml("AccessControlPolicy").Open("Owner").Element("ID", Owner).Element("DisplayName", Owner).Close("Owner").Open("AccessControlList");
        const string xsi = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";
        foreach (var g in Grants)
        {
            var grantee = g.Uri is not null
                ? $"<Grantee {xsi} xsi:type=\"Group\"><URI>{SecurityElement.Escape(g.Uri)}</URI></Grantee>"
                : $"<Grantee {xsi} xsi:type=\"CanonicalUser\"><ID>{SecurityElement.Escape(g.Id)}</ID><DisplayName>{SecurityElement.Escape(g.Id)}</DisplayName></Grantee>";
            xml.Raw($"<Grant>{grantee}<Permission>{g.Permission}</Permission></Grant>");
        }
        return xml.Close("AccessControlList").WriteAsync(context);
    }
}

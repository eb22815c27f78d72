using System.Text;
using System.Xml;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.S3;

/// <summary>One CORS rule of a bucket.</summary>
public sealed record CorsRule(string[] Origins, string[] Methods, string[] Headers, string[] Expose, int? MaxAge);

/// <summary>
/// Bucket CORS: Put/Get/DeleteBucketCors keep the CORSConfiguration document in container sysmeta; preflight
/// OPTIONS requests (which carry no credentials, so the bucket's owner comes from the registry) and actual requests
/// with an Origin are answered from its rules, as S3 evaluates them: the first rule matching origin, method and
/// requested headers wins.
/// </summary>
public static class CorsHandlers
{
    private const string Sysmeta = "X-Container-Sysmeta-S3-Cors";
    private static readonly string[] Methods = ["GET", "PUT", "POST", "DELETE", "HEAD"];

    /// <summary>PUT /bucket?cors.</summary>
    public static async Task PutAsync(S3Request r)
    {
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        var rules = Parse(doc);
        if (rules.Count is 0 or > 100) throw S3Error.MalformedXml();
        var stored = Convert.ToBase64String(Encoding.UTF8.GetBytes(doc.OuterXml));
        await BucketSysmeta.WriteAsync(r, Sysmeta, stored, 200);
        await r.Registry.RegisterAsync(r.Bucket!, r.Principal.Account, r.Context.RequestAborted);
    }

    /// <summary>GET /bucket?cors (NoSuchCORSConfiguration when none).</summary>
    public static async Task GetAsync(S3Request r) =>
        await BucketSysmeta.AnswerXmlAsync(r, Convert.FromBase64String(await BucketSysmeta.ReadAsync(r, Sysmeta) ?? throw NoConfiguration(r.Bucket!)));

    /// <summary>DELETE /bucket?cors.</summary>
    public static Task DeleteAsync(S3Request r) => BucketSysmeta.WriteAsync(r, Sysmeta, "", 204);

    private static S3Error NoConfiguration(string bucket) =>
        new("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist") { Extra = [("BucketName", bucket)] };

    /// <summary>The rules of a CORSConfiguration document; MalformedXML or InvalidRequest when it is not one.</summary>
    public static List<CorsRule> Parse(XmlDocument doc)
    {
        if (doc.DocumentElement?.LocalName != "CORSConfiguration") throw S3Error.MalformedXml();
        var rules = new List<CorsRule>();
        foreach (var rule in S3Xml.Children(doc.DocumentElement, "CORSRule"))
        {
            string[] All(string name) => S3Xml.Children(rule, name).Select(e => e.InnerText.Trim()).ToArray();
            var origins = All("AllowedOrigin");
            var methods = All("AllowedMethod");
            if (origins.Length == 0 || methods.Length == 0) throw S3Error.MalformedXml();
            foreach (var m in methods)
                if (Array.IndexOf(Methods, m) < 0) throw new S3Error("InvalidRequest", 400, $"Found unsupported HTTP method in CORS config. Unsupported method is {m}");
            int? maxAge = int.TryParse(S3Xml.ChildText(rule, "MaxAgeSeconds"), out var age) ? age : null;
            rules.Add(new CorsRule(origins, methods, All("AllowedHeader"), All("ExposeHeader"), maxAge));
        }
        return rules;
    }

    private static async Task<List<CorsRule>?> RulesAsync(Cluster cluster, string account, string bucket, CancellationToken cancellationToken)
    {
        var info = await cluster.GetContainerInfoAsync(account, bucket, cancellationToken: cancellationToken);
        if (!info.Exists || info.Header(Sysmeta) is not { Length: > 0 } stored) return null;
        var doc = new XmlDocument { XmlResolver = null };
        doc.LoadXml(Encoding.UTF8.GetString(Convert.FromBase64String(stored)));
        return Parse(doc);
    }

    private static bool Matches(string pattern, string value)
    {
        var star = pattern.IndexOf('*');
        if (star < 0) return string.Equals(pattern, value, StringComparison.OrdinalIgnoreCase);
        return value.Length >= pattern.Length - 1 && value.StartsWith(pattern[..star], StringComparison.OrdinalIgnoreCase)
            && value.EndsWith(pattern[(star + 1)..], StringComparison.OrdinalIgnoreCase);
    }

    private static CorsRule? Match(List<CorsRule> rules, string origin, string method, IEnumerable<string> requestedHeaders)
    {
        foreach (var rule in rules)
        {
            if (!rule.Origins.Any(o => Matches(o, origin)) || Array.IndexOf(rule.Methods, method) < 0) continue;
            if (requestedHeaders.All(h => rule.Headers.Any(a => Matches(a, h)))) return rule;
        }
        return null;
    }

    /// <summary>OPTIONS /bucket[/key]: the preflight answer, or 403 when no rule allows it.</summary>
    public static async Task PreflightAsync(HttpContext context, Cluster cluster, string account, string bucket)
    {
        var origin = context.Request.Headers.Origin.ToString();
        var method = context.Request.Headers.AccessControlRequestMethod.ToString();
        if (origin.Length == 0 || method.Length == 0) throw new S3Error("BadRequest", 400, "Insufficient information. Origin request header needed.");
        var requested = context.Request.Headers.AccessControlRequestHeaders.ToString()
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var rules = await RulesAsync(cluster, account, bucket, context.RequestAborted)
            ?? throw new S3Error("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
        var rule = Match(rules, origin, method, requested)
            ?? throw new S3Error("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
        var h = context.Response.Headers;
        h.AccessControlAllowOrigin = rule.Origins.Contains("*") ? "*" : origin;
        h.AccessControlAllowMethods = string.Join(", ", rule.Methods);
        if (requested.Length > 0) h.AccessControlAllowHeaders = string.Join(", ", requested);
        if (rule.Expose.Length > 0) h.AccessControlExposeHeaders = string.Join(", ", rule.Expose);
        if (rule.MaxAge is { } age) h.AccessControlMaxAge = age.ToString(System.Globalization.CultureInfo.InvariantCulture);
        h.Vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
        context.Response.StatusCode = 200;
        context.Response.ContentLength = 0;
    }

    /// <summary>An actual request with an Origin: the matching rule's headers are added to whatever the answer is.</summary>
    public static async Task AddHeadersAsync(HttpContext context, Cluster cluster, string account, string bucket)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return;
        var rules = await RulesAsync(cluster, account, bucket, context.RequestAborted);
        if (rules is null || Match(rules, origin, context.Request.Method, []) is not { } rule) return;
        context.Response.OnStarting(() =>
        {
            var h = context.Response.Headers;
            h.AccessControlAllowOrigin = rule.Origins.Contains("*") ? "*" : origin;
            h.AccessControlAllowMethods = string.Join(", ", rule.Methods);
            if (rule.Expose.Length > 0) h.AccessControlExposeHeaders = string.Join(", ", rule.Expose);
            h.Vary = "Origin";
            return Task.CompletedTask;
        });
    }
}

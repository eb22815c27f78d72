using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Middleware;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// The S3 front end on the proxy's port: recognises signed S3 requests, checks the signature against the access
/// key's secret (tempauth users, or identity EC2 credentials), and answers them by running Swift sub-requests
/// through the rest of the pipeline as the caller, so ACLs, quotas and every feature apply alike. Requests that
/// are not S3's pass through untouched.
/// </summary>
public sealed class S3Middleware(RequestDelegate next, IEnumerable<IS3CredentialSource> sources, TimeProvider? clock = null)
{
    /// <summary>Largest difference between the request's time and ours (S3's RequestTimeTooSkewed).</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Runs the step.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var v2 = request.Headers.Authorization.ToString().StartsWith("AWS ", StringComparison.Ordinal) || request.Query.ContainsKey("AWSAccessKeyId");
        if (!v2 && !SigV4.IsSigned(request))
        {
            await next(context);
            return;
        }
        var requestId = TransactionIdMiddleware.Of(context) ?? "";
        context.Response.Headers["x-amz-request-id"] = requestId;
        context.Response.Headers["x-amz-id-2"] = requestId;
        try
        {
            if (v2) throw S3Error.NotImplemented();
            var principal = await AuthenticateAsync(request);
            SwiftAuthState.Of(context).Identity = principal.Identity;
            await DispatchAsync(context, principal);
        }
        catch (S3Error e)
        {
            await e.WriteAsync(context);
        }
    }

    private async Task<S3Principal> AuthenticateAsync(HttpRequest request)
    {
        var signed = SigV4.Parse(request);
        var now = _clock.GetUtcNow();
        if (signed.Presigned)
        {
            if (signed.Time - now > MaxSkew) throw S3Error.RequestTimeTooSkewed();
            if (now > signed.Time + signed.Expires!.Value) throw S3Error.AccessDenied("Request has expired");
        }
        else if ((now - signed.Time).Duration() > MaxSkew) throw S3Error.RequestTimeTooSkewed();
        S3Principal? principal = null;
        foreach (var source in sources)
        {
            principal = await source.FindAsync(signed.AccessKey);
            if (principal is not null) break;
        }
        if (principal is null) throw S3Error.InvalidAccessKeyId();
        if (!SigV4.Verify(request, signed, principal.Secret)) throw S3Error.SignatureDoesNotMatch();
        return principal;
    }

    private Task DispatchAsync(HttpContext context, S3Principal principal)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == "/" && HttpMethods.IsGet(context.Request.Method)) return ListBucketsAsync(context, principal);
        throw S3Error.NotImplemented();
    }

    /// <summary>GET /: the account's containers as ListAllMyBucketsResult.</summary>
    private async Task ListBucketsAsync(HttpContext context, S3Principal principal)
    {
        using var body = new MemoryStream();
        var response = await SubRequest.SendAsync(context, next, "GET", $"/v1/{principal.Account}?format=json", responseBody: body);
        if (response.Status is 401 or 403) throw S3Error.AccessDenied();
        if (response.Status is not (200 or 204)) throw S3Error.InternalError();
        var xml = new StringBuilder(256);
        var owner = SecurityElement.Escape(principal.Identity.User);
        xml.Append("""<?xml version="1.0" encoding="UTF-8"?>""").Append('\n')
            .Append("""<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">""")
            .Append("<Owner><ID>").Append(owner).Append("</ID><DisplayName>").Append(owner).Append("</DisplayName></Owner><Buckets>");
        if (body.Length > 0)
        {
            using var listing = JsonDocument.Parse(body.ToArray());
            foreach (var container in listing.RootElement.EnumerateArray())
            {
                var created = container.TryGetProperty("last_modified", out var lm) && DateTime.TryParse(lm.GetString(), CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when) ? when : DateTime.UnixEpoch;
                xml.Append("<Bucket><Name>").Append(SecurityElement.Escape(container.GetProperty("name").GetString()))
                    .Append("</Name><CreationDate>").Append(created.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
                    .Append("</CreationDate></Bucket>");
            }
        }
        xml.Append("</Buckets></ListAllMyBucketsResult>");
        var bytes = Encoding.UTF8.GetBytes(xml.ToString());
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/xml";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}

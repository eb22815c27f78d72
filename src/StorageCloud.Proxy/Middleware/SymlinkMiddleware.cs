using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's symlinks: a zero-byte PUT with X-Symlink-Target (and -Account, and -Etag for a static link) makes an
/// object that GET and HEAD follow, as the caller, up to <see cref="SymloopMax"/> links deep; ?symlink=get returns the
/// link itself; a POST to a link answers 307 with the target's location.
/// </summary>
public sealed class SymlinkMiddleware(Cluster cluster, SwiftAuthorizer authorizer, IServiceProvider services) : IMiddleware, IObjectReadFilter
{
    /// <summary>Most links one read follows (symloop_max).</summary>
    public const int SymloopMax = 2;

    private const string Target = "X-Object-Sysmeta-Symlink-Target";
    private const string TargetAccount = "X-Object-Sysmeta-Symlink-Target-Account";
    private const string TargetEtag = "X-Object-Sysmeta-Symlink-Target-Etag";
    private const string TargetBytes = "X-Object-Sysmeta-Symlink-Target-Bytes";
    private const string FormError = "X-Symlink-Target header must be of the form <container name>/<object name>";

    /// <inheritdoc />
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = SwiftPath.Of(context);
        var request = context.Request;
        if (path.Object is null || !path.ValidUtf8)
        {
            await next(context);
            return;
        }
        if (HttpMethods.IsPut(request.Method) && request.Headers.ContainsKey("X-Symlink-Target"))
        {
            if (await PrepareLinkAsync(context, path) is { } problem)
            {
                if (problem.Location is not null) context.Response.Headers.ContentLocation = problem.Location;
                await Relay.StatusAsync(context, problem.Status, problem.Text);
                return;
            }
        }
        else if (HttpMethods.IsPost(request.Method))
        {
            if (request.Headers.ContainsKey("X-Symlink-Target"))
            {
                await Relay.StatusAsync(context, 400, "A PUT request is required to set a symlink target");
                return;
            }
            using var head = await cluster.ObjectReadAsync(HttpMethod.Head, path.Account!, path.Container!, path.Object, [], cancellationToken: context.RequestAborted);
            if (head.IsSuccess && head.Header(Target) is { } target)
            {
                // The POST still lands on the link (as in Swift); the client is told where the target is. A POST's
                // answer is a few bytes, so it is held back until its status is known.
                var body = context.Response.Body;
                using var held = new MemoryStream();
                context.Response.Body = held;
                try
                {
                    await next(context);
                }
                finally
                {
                    context.Response.Body = body;
                }
                if (context.Response.StatusCode == 202)
                {
                    context.Response.Headers.Location = $"/v1/{head.Header(TargetAccount) ?? SwiftPath.QuoteKeepSlash(path.Account!)}/{target}";
                    await Relay.StatusAsync(context, 307);
                    return;
                }
                held.Position = 0;
                await held.CopyToAsync(body, context.RequestAborted);
                return;
            }
        }
        await next(context);
    }

    private sealed record Problem(int Status, string? Text, string? Location = null);

    /// <summary>Checks the link's headers and moves them to sysmeta; a static link's target must exist with that ETag.</summary>
    private async Task<Problem?> PrepareLinkAsync(HttpContext context, SwiftPath path)
    {
        var request = context.Request;
        if (request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0))
            return new Problem(400, "Symlink requests require a zero byte body");
        var raw = Uri.UnescapeDataString(request.Headers["X-Symlink-Target"].ToString());
        var slash = raw.IndexOf('/');
        if (raw.StartsWith('/') || slash <= 0 || slash == raw.Length - 1) return new Problem(412, FormError);
        var (container, obj) = (raw[..slash], raw[(slash + 1)..]);
        var account = path.Account!;
        if (request.Headers["X-Symlink-Target-Account"].ToString() is { Length: > 0 } given)
        {
            account = Uri.UnescapeDataString(given);
            if (account.Contains('/')) return new Problem(412, "Account name cannot contain slashes");
            request.Headers[TargetAccount] = SwiftPath.QuoteKeepSlash(account);
        }
        if ((account, container, obj) == (path.Account, path.Container, path.Object)) return new Problem(400, "Symlink cannot target itself");
        request.Headers[Target] = SwiftPath.QuoteKeepSlash($"{container}/{obj}");
        var etag = request.Headers["X-Symlink-Target-Etag"].ToString().Trim('"');
        if (etag.IndexOfAny([';', '"', '\\']) >= 0) return new Problem(400, "Bad X-Symlink-Target-Etag format");
        if (etag.Length > 0)
        {
            var location = $"/v1/{account}/{container}/{obj}";
            using var head = await ReadAsCallerAsync(context, HttpMethod.Head, account, container, obj, []);
            if (head.Status == 404) return new Problem(409, "X-Symlink-Target does not exist", location);
            if (!head.IsSuccess) return new Problem(head.Status is 401 or 403 ? head.Status : 503, null);
            var found = head.Header("X-Object-Sysmeta-Slo-Etag") ?? head.Header("ETag")?.Trim('"');
            if (found != etag) return new Problem(409, $"Object Etag '{found}' does not match X-Symlink-Target-Etag header '{etag}'", location);
            request.Headers[TargetEtag] = etag;
            request.Headers[TargetBytes] = head.Header("X-Object-Sysmeta-Slo-Size") ?? head.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "0";
        }
        request.Headers.Remove("X-Symlink-Target");
        request.Headers.Remove("X-Symlink-Target-Account");
        request.Headers.Remove("X-Symlink-Target-Etag");
        if (request.Headers.ContentType.Count == 0 && etag.Length == 0) request.Headers.ContentType = "application/symlink";
        return null;
    }

    /// <inheritdoc />
    public void PrepareRead(HttpContext context, List<KeyValuePair<string, string>> backendHeaders)
        => ReadFilterHeaders.IgnoreRangeIfPresent(backendHeaders, Target);

    /// <inheritdoc />
    public async Task<bool> TryAnswerAsync(HttpContext context, SwiftPath path, BackendResponse response)
    {
        if (!response.IsSuccess || response.Header(Target) is not { } first) return false;
        if (context.Request.Query["symlink"] == "get")
        {
            context.Response.Headers["X-Symlink-Target"] = first;
            if (response.Header(TargetAccount) is { } acct) context.Response.Headers["X-Symlink-Target-Account"] = acct;
            if (response.Header(TargetEtag) is { } te) context.Response.Headers["X-Symlink-Target-Etag"] = te;
            if (response.Header(TargetBytes) is { } tb) context.Response.Headers["X-Symlink-Target-Bytes"] = tb;
            return false;
        }
        var others = services.GetServices<IObjectReadFilter>().Where(f => f != this).ToList();
        var account = path.Account!;
        var link = response;
        BackendResponse? current = null;
        try
        {
            for (var hops = 0; ; hops++)
            {
                var target = Uri.UnescapeDataString(link.Header(Target)!);
                var expectedEtag = link.Header(TargetEtag);
                account = link.Header(TargetAccount) is { } a ? Uri.UnescapeDataString(a) : account;
                if (hops >= SymloopMax)
                {
                    await Relay.StatusAsync(context, 409, $"Too many levels of symbolic links, maximum allowed is {SymloopMax}");
                    return true;
                }
                var slash = target.IndexOf('/');
                var (container, obj) = (target[..slash], target[(slash + 1)..]);
                var location = $"/v1/{account}/{container}/{obj}";
                var headers = Relay.BackendHeaders(context);
                foreach (var f in others) f.PrepareRead(context, headers);
                if (current is not null && current != response) current.Dispose();
                current = await ReadAsCallerAsync(context, new HttpMethod(context.Request.Method), account, container, obj, headers);
                context.Response.Headers.ContentLocation = location;
                if (current.IsSuccess && current.Header(Target) is not null && current.Header(TargetEtag) is null)
                {
                    link = current;
                    continue;
                }
                var finalEtag = current.Header("X-Object-Sysmeta-Slo-Etag") ?? current.Header("ETag")?.Trim('"');
                if (expectedEtag is not null && current.IsSuccess && finalEtag != expectedEtag)
                {
                    await Relay.StatusAsync(context, 409, $"Object Etag '{finalEtag}' does not match X-Symlink-Target-Etag header '{expectedEtag}'");
                    return true;
                }
                var targetPath = new SwiftPath("v1", account, container, obj, true);
                foreach (var f in others)
                    if (await f.TryAnswerAsync(context, targetPath, current)) return true;
                await Relay.WriteAsync(context, current, SwiftAuthState.Of(context).Owner);
                return true;
            }
        }
        finally
        {
            if (current is not null && current != response) current.Dispose();
        }
    }

    /// <summary>Reads an object as the caller (its container's read ACL applies); a refusal comes back as its status.</summary>
    private async Task<BackendResponse> ReadAsCallerAsync(HttpContext context, HttpMethod method, string account, string container, string obj, List<KeyValuePair<string, string>> headers)
    {
        var denial = await authorizer.AuthorizeReadAsync(context, account, container, obj);
        if (denial is not null) return BackendResponse.Synthetic(denial.Status);
        return await cluster.ObjectReadAsync(method, account, container, obj, headers, cancellationToken: context.RequestAborted);
    }
}

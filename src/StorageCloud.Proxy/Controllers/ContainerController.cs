using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Controllers;

/// <summary>Swift's container API: PUT, GET (object listing), HEAD, POST (metadata, ACLs) and DELETE.</summary>
public sealed class ContainerController(Cluster cluster, SwiftAuthorizer authorizer, ProxyOptions options)
{
    /// <summary>Methods a container answers, for Allow headers.</summary>
    public const string Allowed = "DELETE, GET, HEAD, OPTIONS, POST, PUT";

    /// <summary>Handles a request for /v1/account/container.</summary>
    public async Task HandleAsync(HttpContext context, SwiftPath path)
    {
        var method = context.Request.Method;
        if (method is not ("GET" or "HEAD" or "PUT" or "POST" or "DELETE" or "OPTIONS"))
        {
            context.Response.Headers.Allow = Allowed;
            await Relay.StatusAsync(context, 405);
            return;
        }
        var (account, container) = (path.Account!, path.Container!);
        if (method is "GET" or "HEAD")
        {
            await ReadAsync(context, path);
            return;
        }
        if (method == "OPTIONS")
        {
            context.Response.Headers.Allow = Allowed;
            await Relay.StatusAsync(context, 200);
            return;
        }
        if (await authorizer.AuthorizeAsync(context, path, null) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        var owner = SwiftAuthState.Of(context).Owner;
        if (method is "PUT" or "POST")
        {
            var nameBytes = Encoding.UTF8.GetByteCount(container);
            if (method == "PUT" && nameBytes > options.Constraints.MaxContainerNameLength)
            {
                // Swift puts this text into its HTML 400, keeping that answer's content type.
                var text = Encoding.UTF8.GetBytes($"Container name length of {nameBytes} longer than {options.Constraints.MaxContainerNameLength}");
                context.Response.StatusCode = 400;
                context.Response.ContentType = "text/html; charset=UTF-8";
                context.Response.ContentLength = text.Length;
                await context.Response.Body.WriteAsync(text, context.RequestAborted);
                return;
            }
            if (MetadataRules.Check(context.Request.Headers, "Container", options.Constraints) is { } problem)
            {
                await Relay.StatusAsync(context, 400, problem);
                return;
            }
            if (CleanAcls(context) is { } aclError)
            {
                await Relay.StatusAsync(context, 400, aclError);
                return;
            }
            var policy = context.Request.Headers["X-Storage-Policy"].ToString();
            if (method == "PUT" && policy.Length > 0 && !policy.Equals("Policy-0", StringComparison.OrdinalIgnoreCase))
            {
                await Relay.StatusAsync(context, 400, $"Invalid X-Storage-Policy '{policy}'");
                return;
            }
        }
        if (method == "PUT")
        {
            var accountStatus = await cluster.EnsureAccountAsync(account, Relay.BackendHeaders(context, _ => true), context.RequestAborted);
            if (accountStatus is < 200 or >= 300)
            {
                await Relay.WriteStatusAsync(context, accountStatus == 404 ? 404 : 503);
                return;
            }
        }
        var headers = Relay.BackendHeaders(context, name => !owner && Relay.IsOwnerHeader(name));
        Relay.TranslateRemovals(headers);
        using var result = await cluster.ContainerWriteAsync(new HttpMethod(method), account, container, headers, context.RequestAborted);
        await Relay.WriteStatusAsync(context, result.Status);
    }

    private async Task ReadAsync(HttpContext context, SwiftPath path)
    {
        var newest = context.Request.Headers["X-Newest"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        using var response = await cluster.ContainerReadAsync(new HttpMethod(context.Request.Method), path.Account!, path.Container!,
            Relay.Query(context), Relay.BackendHeaders(context), newest, context.RequestAborted);
        // Reads are authorized after the fact, against the read ACL the container itself returned (as Swift does).
        if (await authorizer.AuthorizeAsync(context, path, response.Header("X-Container-Read")) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        if (response.IsSuccess)
        {
            cluster.Cache.Set(path.Account!, path.Container!, new ContainerInfo(response.Status, response.Headers()));
            Relay.ListingHeaders(context);
        }
        await Relay.WriteAsync(context, response, SwiftAuthState.Of(context).Owner);
    }

    /// <summary>Normalizes X-Container-Read/Write in place (Swift's clean_acl); Swift's error text when one is not valid.</summary>
    private static string? CleanAcls(HttpContext context)
    {
        foreach (var header in (string[])["X-Container-Read", "X-Container-Write"])
        {
            if (!context.Request.Headers.TryGetValue(header, out var value)) continue;
            if (Acl.CleanContainerAcl(header, value.ToString(), out var cleaned) is { } error) return error;
            context.Request.Headers[header] = cleaned;
        }
        return null;
    }
}

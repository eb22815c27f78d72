using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.Auth;

/// <summary>
/// The auth step of the pipeline: lets each provider answer its own endpoints, then turns the request's token
/// (X-Auth-Token or X-Storage-Token) into an identity. Authorization itself happens in the controllers, once the
/// governing ACLs are known, as in Swift.
/// </summary>
public sealed class SwiftAuthMiddleware(RequestDelegate next, IEnumerable<ISwiftAuthProvider> providers)
{
    /// <summary>Runs the step.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        foreach (var provider in providers)
            if (await provider.TryHandleAsync(context)) return;
        var token = context.Request.Headers["X-Auth-Token"].ToString();
        if (token.Length == 0) token = context.Request.Headers["X-Storage-Token"].ToString();
        if (token.Length > 0)
        {
            var state = SwiftAuthState.Of(context);
            foreach (var provider in providers)
            {
                state.Identity = await provider.ResolveTokenAsync(token, context.RequestAborted);
                if (state.Identity is not null) break;
            }
            state.InvalidToken = state.Identity is null;
        }
        await next(context);
    }
}

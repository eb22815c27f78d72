using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Storage.Daemons;

/// <summary>
/// A storage node's daemon passes by name (object-replicator, object-auditor, ...), each run one at a time: on its
/// interval by the daemon loop, or when an operator or a probe test asks with <c>POST /daemon/&lt;name&gt;</c>,
/// which answers the pass's result as JSON once it ends (as Swift's daemons run with <c>--once</c>).
/// Storage ports are the cluster's backend network, as in Swift: trusted, not for clients.
/// </summary>
public sealed class DaemonPasses
{
    private readonly Dictionary<string, (SemaphoreSlim Gate, Func<CancellationToken, Task<object>> Pass)> _passes = new(StringComparer.Ordinal);

    /// <summary>The registered pass names.</summary>
    public IReadOnlyCollection<string> Names => _passes.Keys;

    /// <summary>Registers a pass under <paramref name="name"/>.</summary>
    public void Add(string name, Func<CancellationToken, Task<object>> pass) => _passes.Add(name, (new SemaphoreSlim(1, 1), pass));

    /// <summary>True when a pass of that name is registered.</summary>
    public bool Contains(string name) => _passes.ContainsKey(name);

    /// <summary>Runs one whole pass, after any pass of the same name that is already running.</summary>
    public async Task<object> RunAsync(string name, CancellationToken cancellationToken)
    {
        var (gate, pass) = _passes[name];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await pass(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Answers <c>POST /daemon/&lt;name&gt;</c> and <c>GET /daemon</c>; false when the request is not for this.</summary>
    public async Task<bool> TryHandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path == "/daemon")
        {
            if (HttpMethods.IsGet(context.Request.Method)) await WriteJsonAsync(context, 200, _passes.Keys.Order(StringComparer.Ordinal).ToList());
            else
            {
                context.Response.Headers.Allow = "GET";
                context.Response.StatusCode = 405;
            }
            return true;
        }
        if (!path.StartsWith("/daemon/", StringComparison.Ordinal) || path.IndexOf('/', 8) >= 0) return false;
        var name = path[8..];
        if (!_passes.ContainsKey(name))
        {
            context.Response.StatusCode = 404;
            return true;
        }
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            context.Response.StatusCode = 405;
            return true;
        }
        var result = await RunAsync(name, context.RequestAborted);
        await WriteJsonAsync(context, 200, result);
        return true;
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, object body)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), JsonSerializerOptions.Web);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Proxy.Controllers;
using StorageCloud.Common.Http;

namespace StorageCloud.Proxy.Auth;

/// <summary>
/// Swift's tempauth: users from the configuration, GET /auth/v1.0 (and /auth/v1/&lt;account&gt;/auth) trading a
/// user and key for a token and storage URL, and tokens kept in memory until they expire.
/// </summary>
public sealed class TempAuth(ProxyOptions options) : ISwiftAuthProvider
{
    private readonly ConcurrentDictionary<string, (SwiftIdentity Identity, long Expires)> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _userTokens = new(StringComparer.Ordinal);

    /// <summary>Token prefix; a token that does not start with it is someone else's.</summary>
    public string TokenPrefix => options.ResellerPrefix + "tk";

    /// <inheritdoc />
    public async Task<bool> TryHandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        string? pathAccount = null;
        if (path is "/auth/v1.0" or "/auth/v1.0/" or "/v1.0" or "/v1.0/" or "/auth" or "/auth/") { }
        else if (path.StartsWith("/auth/v1/", StringComparison.Ordinal) && path.EndsWith("/auth", StringComparison.Ordinal) && path.Length > "/auth/v1//auth".Length)
            pathAccount = path["/auth/v1/".Length..^"/auth".Length];
        else return false;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            await Relay.StatusAsync(context, 400);
            return true;
        }
        var h = context.Request.Headers;
        string account, user;
        string key;
        if (pathAccount is not null)
        {
            var given = First(h["X-Storage-User"], h["X-Auth-User"]);
            if (given is null) return await Deny(context, pathAccount);
            if (given.Contains(':'))
            {
                var (a, u) = Split(given);
                if (a != pathAccount) return await Deny(context, pathAccount);
                given = u;
            }
            (account, user) = (pathAccount, given);
            key = First(h["X-Storage-Pass"], h["X-Auth-Key"]) ?? "";
        }
        else
        {
            var given = First(h["X-Auth-User"], h["X-Storage-User"]);
            if (given is null || !given.Contains(':')) return await Deny(context, "unknown");
            (account, user) = Split(given);
            key = First(h["X-Auth-Key"], h["X-Storage-Pass"]) ?? "";
        }
        if (account.Length == 0 || user.Length == 0 || key.Length == 0) return await Deny(context, account.Length > 0 ? account : "unknown");
        var found = Find(account, user);
        if (found is null) return await Deny(context, account);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(found.Key), Encoding.UTF8.GetBytes(key))) return await Deny(context, "unknown");

        var (token, expires) = IssueToken(found);
        var seconds = Math.Max(0, (expires - Environment.TickCount64) / 1000);
        var host = context.Request.Host.HasValue ? context.Request.Host.Value : "127.0.0.1";
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/html; charset=UTF-8";
        response.Headers["X-Auth-Token"] = token;
        response.Headers["X-Storage-Token"] = token;
        response.Headers["X-Auth-Token-Expires"] = seconds.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Storage-Url"] = $"{context.Request.Scheme}://{host}/v1/{options.ResellerPrefix}{account}";
        response.ContentLength = 0;
        return true;
    }

    /// <inheritdoc />
    public ValueTask<SwiftIdentity?> ResolveTokenAsync(string token, CancellationToken cancellationToken)
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal) || !_tokens.TryGetValue(token, out var entry)) return ValueTask.FromResult<SwiftIdentity?>(null);
        if (Environment.TickCount64 >= entry.Expires)
        {
            _tokens.TryRemove(token, out _);
            return ValueTask.FromResult<SwiftIdentity?>(null);
        }
        return ValueTask.FromResult<SwiftIdentity?>(entry.Identity);
    }

    /// <summary>
    /// The groups Swift gives a tempauth user: "account:user", "account", every configured group, and for
    /// .admin users the reseller-prefixed account they own (instead of ".admin").
    /// </summary>
    public SwiftIdentity IdentityOf(TempAuthUser user)
    {
        var groups = new HashSet<string>(StringComparer.Ordinal) { $"{user.Account}:{user.User}", user.Account };
        foreach (var g in user.Groups)
        {
            if (g == ".admin") groups.Add(options.ResellerPrefix + user.Account);
            else groups.Add(g);
        }
        return new SwiftIdentity($"{user.Account}:{user.User}", groups);
    }

    private TempAuthUser? Find(string account, string user)
    {
        foreach (var u in options.Users)
            if (u.Account == account && u.User == user) return u;
        return null;
    }

    private (string Token, long Expires) IssueToken(TempAuthUser user)
    {
        var name = $"{user.Account}:{user.User}";
        // A user's unexpired token is handed out again, as Swift does, so clients that log in often share one.
        if (_userTokens.TryGetValue(name, out var existing) && _tokens.TryGetValue(existing, out var held) && Environment.TickCount64 < held.Expires)
            return (existing, held.Expires);
        var token = TokenPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var expires = Environment.TickCount64 + (long)options.TokenLife.TotalMilliseconds;
        _tokens[token] = (IdentityOf(user), expires);
        _userTokens[name] = token;
        return (token, expires);
    }

    private static string? First(Microsoft.Extensions.Primitives.StringValues a, Microsoft.Extensions.Primitives.StringValues b)
        => a.ToString() is { Length: > 0 } x ? x : b.ToString() is { Length: > 0 } y ? y : null;

    private static (string, string) Split(string accountUser)
    {
        var i = accountUser.IndexOf(':');
        return (accountUser[..i], accountUser[(i + 1)..]);
    }

    private static async Task<bool> Deny(HttpContext context, string realm)
    {
        context.Response.Headers.WWWAuthenticate = $"Swift realm=\"{realm}\"";
        await Relay.StatusAsync(context, 401);
        return true;
    }
}

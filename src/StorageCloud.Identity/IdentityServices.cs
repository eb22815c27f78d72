using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Auth;
using StorageCloud.Identity.Api;
using StorageCloud.Identity.Auth;
using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity;

/// <summary>Registers the identity service's parts: token validation (the auth library's), tokens, auth and the API.</summary>
public static class IdentityServices
{
    /// <summary>Adds everything the identity API needs (the clock is for tests).</summary>
    public static IServiceCollection AddIdentityService(this IServiceCollection services, IdentityOptions options, TimeProvider? clock = null)
    {
        services.AddTokenValidation(options.Auth, clock);
        services.AddSingleton(options);
        services.AddSingleton<TokenService>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton(_ => new LoginLimiter(options, clock));
        services.AddSingleton<IdentityApi>();
        return services;
    }
}

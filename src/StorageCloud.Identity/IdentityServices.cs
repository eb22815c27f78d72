using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Identity.Api;
using StorageCloud.Identity.Auth;
using StorageCloud.Identity.Store;
using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity;

/// <summary>Registers the identity service's parts: the database, the key repository, tokens, auth and the API.</summary>
public static class IdentityServices
{
    /// <summary>Adds everything the identity API and local token validation need (the clock is for tests).</summary>
    public static IServiceCollection AddIdentityService(this IServiceCollection services, IdentityOptions options, TimeProvider? clock = null)
    {
        services.AddSingleton(options);
        services.AddSingleton(_ => new IdentityDb(options));
        services.AddSingleton<IdentityStore>();
        services.AddSingleton(_ => new KeyRepository(options.KeyRepository, options.MaxActiveKeys));
        services.AddSingleton<TokenCodec>();
        services.AddSingleton(sp => new TokenService(sp.GetRequiredService<IdentityStore>(), sp.GetRequiredService<TokenCodec>(), options, clock));
        services.AddSingleton<Authenticator>();
        services.AddSingleton(_ => new LoginLimiter(options, clock));
        services.AddSingleton<Ec2Credentials>();
        services.AddSingleton<IdentityApi>();
        return services;
    }
}

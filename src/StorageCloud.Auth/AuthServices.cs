using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Auth;

/// <summary>Registers local token validation: the identity database (read side), the key repository, the validator and EC2 keys.</summary>
public static class AuthServices
{
    /// <summary>
    /// Adds what validating tokens and EC2 keys takes. Safe to call from several services of one process: the first
    /// registration wins, so they share one database, one key repository and one cache.
    /// </summary>
    public static IServiceCollection AddTokenValidation(this IServiceCollection services, AuthOptions options, TimeProvider? clock = null)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(_ => new IdentityStore(IdentitySchema.Open(options)));
        services.TryAddSingleton(_ => new KeyRepository(options.KeyRepository, options.MaxActiveKeys));
        services.TryAddSingleton<TokenCodec>();
        services.TryAddSingleton(sp => new TokenValidator(sp.GetRequiredService<IdentityStore>(), sp.GetRequiredService<TokenCodec>(), options, clock));
        services.TryAddSingleton<Ec2Credentials>();
        return services;
    }

    /// <summary>Token validation with the process's own identity settings, for a service that authenticates its callers.</summary>
    public static IServiceCollection AddKeystoneAuth(this IServiceCollection services, ServiceContext context) =>
        services.AddTokenValidation(AuthConfig.Read(context.Configuration, context.Host.DataDir));

    /// <summary>
    /// keystonemiddleware in a service's pipeline: callers must present a valid token, except for the requests
    /// <paramref name="anonymous"/> lets through (version documents, say).
    /// </summary>
    public static IApplicationBuilder UseKeystoneAuth(this IApplicationBuilder app, ServiceContext context, Func<HttpContext, bool>? anonymous = null) =>
        app.UseMiddleware<KeystoneAuthMiddleware>(new KeystoneAuthOptions { AuthUri = AuthConfig.AuthUri(context), Anonymous = anonymous });
}

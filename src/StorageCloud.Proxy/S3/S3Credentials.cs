using StorageCloud.Auth;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.S3;

/// <summary>An S3 caller once its access key is known: the secret to check the signature with, who it is (null when anonymous), and its account.</summary>
public sealed record S3Principal(string Secret, SwiftIdentity? Identity, string Account)
{
    /// <summary>True for an unsigned request (acting on a registered bucket's account, as nobody).</summary>
    public bool Anonymous => Identity is null;
}

/// <summary>One place access keys are looked up.</summary>
public interface IS3CredentialSource
{
    /// <summary>The principal behind an access key, or null when this source does not know it.</summary>
    ValueTask<S3Principal?> FindAsync(string accessKey);
}

/// <summary>Tempauth users as S3 credentials, as Swift's s3api: access key "account:user", secret the user's key.</summary>
public sealed class TempAuthS3Credentials(TempAuth tempAuth, ProxyOptions options) : IS3CredentialSource
{
    /// <inheritdoc />
    public ValueTask<S3Principal?> FindAsync(string accessKey)
    {
        var colon = accessKey.IndexOf(':');
        if (colon <= 0) return ValueTask.FromResult<S3Principal?>(null);
        foreach (var user in options.Users)
        {
            if (user.Account.Length == colon && accessKey.StartsWith(user.Account, StringComparison.Ordinal) && accessKey.AsSpan(colon + 1).SequenceEqual(user.User))
                return ValueTask.FromResult<S3Principal?>(new S3Principal(user.Key, tempAuth.IdentityOf(user), options.ResellerPrefix + user.Account));
        }
        return ValueTask.FromResult<S3Principal?>(null);
    }
}

/// <summary>Identity EC2 credentials as S3 credentials: the key's project account, with the user's roles there.</summary>
public sealed class Ec2S3Credentials(Ec2Credentials credentials, AuthOptions identity, ProxyOptions options) : IS3CredentialSource
{
    /// <inheritdoc />
    public async ValueTask<S3Principal?> FindAsync(string accessKey)
    {
        if (await credentials.ResolveAsync(accessKey) is not { } found) return null;
        var swift = KeystoneAuth.IdentityOf(found.User.Id, found.User.Name, found.User.DomainId, found.Project.Id, found.Project.Name,
            found.Project.DomainId, found.Roles.Select(r => r.Name).ToList(), identity, options.ResellerPrefix);
        return new S3Principal(found.Secret, swift, options.ResellerPrefix + found.Project.Id);
    }
}

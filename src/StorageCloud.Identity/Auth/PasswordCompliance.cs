using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity.Auth;

/// <summary>
/// Keystone's security-compliance rules for passwords, each off unless configured: a user locked out after failed
/// logins in a row (per account, where <see cref="LoginLimiter"/> counts per address), and self-service changes that may
/// not reuse recent passwords. The state lives in the database, so every API node sees the same lockouts.
/// </summary>
public sealed class PasswordCompliance(IdentityStore store, IdentityOptions options, TokenService tokens)
{
    private long NowMicros => TokenCodec.Micros(tokens.Now);

    private long LockoutMicros => (long)(options.LockoutDuration.TotalMilliseconds * 1000);

    /// <summary>True while the user is locked out: then even the right password is refused.</summary>
    public async Task<bool> IsLockedOutAsync(UserRow user)
    {
        if (options.LockoutFailureAttempts <= 0) return false;
        var row = await store.GetAsync<UserLockoutRow>(user.Id);
        return row is not null && row.Failures >= options.LockoutFailureAttempts && NowMicros - row.LastFailure < LockoutMicros;
    }

    /// <summary>Counts a wrong password against the user.</summary>
    public async Task FailedAsync(UserRow user)
    {
        if (options.LockoutFailureAttempts <= 0) return;
        var now = NowMicros;
        var row = await store.GetAsync<UserLockoutRow>(user.Id);
        if (row is null)
        {
            await store.InsertAsync(new UserLockoutRow { Id = user.Id, Failures = 1, LastFailure = now });
            return;
        }
        // A lockout that has run its time starts a new count.
        var expired = row.Failures >= options.LockoutFailureAttempts && now - row.LastFailure >= LockoutMicros;
        row.Failures = expired ? 1 : row.Failures + 1;
        row.LastFailure = now;
        await store.UpdateAsync(row);
    }

    /// <summary>A right password ends the run of failures.</summary>
    public async Task SucceededAsync(UserRow user)
    {
        if (options.LockoutFailureAttempts > 0) await store.DeleteAsync<UserLockoutRow>(user.Id);
    }

    /// <summary>400 when a self-service change would reuse one of the user's latest passwords (the current one included).</summary>
    public async Task EnsureNotReusedAsync(UserRow user, string password)
    {
        var count = options.UniqueLastPasswordCount;
        if (count <= 0) return;
        var hashes = await store.QueryAsync<string>(
            "SELECT password_hash FROM password_history WHERE user_id = @userId ORDER BY created_at DESC LIMIT @count", new { userId = user.Id, count });
        // Passwords set before the history was kept are known only by the current one.
        if (user.PasswordHash is not null && !hashes.Contains(user.PasswordHash)) hashes.Insert(0, user.PasswordHash);
        foreach (var hash in hashes.Take(count))
        {
            if (PasswordHasher.Verify(password, hash))
                throw IdentityError.Invalid($"The new password cannot be identical to a previous password. The total number which includes the new password must be unique is {count}.");
        }
    }

    /// <summary>Records a newly set password hash, keeping only as many as the history length.</summary>
    public async Task RememberAsync(string userId, string? passwordHash)
    {
        var count = options.UniqueLastPasswordCount;
        if (count <= 0 || passwordHash is null) return;
        var latest = (await store.QueryAsync<long?>("SELECT MAX(created_at) FROM password_history WHERE user_id = @userId", new { userId })).FirstOrDefault();
        var at = Math.Max(NowMicros, (latest ?? 0) + 1);
        await store.InsertAsync(new PasswordHistoryRow { UserId = userId, PasswordHash = passwordHash, CreatedAt = at });
        var oldest = (await store.QueryAsync<long?>(
            "SELECT created_at FROM password_history WHERE user_id = @userId ORDER BY created_at DESC LIMIT 1 OFFSET @count", new { userId, count })).FirstOrDefault();
        if (oldest is { } cutoff)
            await store.ExecuteAsync("DELETE FROM password_history WHERE user_id = @userId AND created_at <= @cutoff", new { userId, cutoff });
    }

    /// <summary>Forgets a deleted user's history and lockout.</summary>
    public async Task ForgetAsync(string userId)
    {
        await store.ExecuteAsync("DELETE FROM password_history WHERE user_id = @userId", new { userId });
        await store.DeleteAsync<UserLockoutRow>(userId);
    }
}

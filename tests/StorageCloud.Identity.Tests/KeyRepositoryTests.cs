using StorageCloud.Auth.Tokens;
using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity.Tests;

public sealed class KeyRepositoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sc-keys-" + Guid.NewGuid().ToString("N")[..12]);

    private static TokenPayload Payload() => new("user1", AuthMethods.Password, ScopeKind.Project, "project1",
        DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1), [TokenCodec.NewAuditId()]);

    [Fact]
    public void A_new_repository_has_a_staged_and_a_primary_key_readable_only_by_the_owner()
    {
        var keys = new KeyRepository(_dir, 3);
        Assert.Equal([0, 1], keys.Indexes());
        Assert.Equal(2, keys.Keys.Length);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "1")));
    }

    [Fact]
    public void Rotation_keeps_old_tokens_valid_until_their_key_leaves_the_repository()
    {
        var keys = new KeyRepository(_dir, 3);
        var codec = new TokenCodec(keys);
        var payload = Payload();
        var token = codec.Encode(payload);
        var decoded = codec.Decode(token);
        Assert.NotNull(decoded);
        Assert.Equal(payload.UserId, decoded.UserId);
        Assert.Equal(payload.ScopeId, decoded.ScopeId);
        Assert.Equal(payload.AuditIds, decoded.AuditIds);
        Assert.Equal(TokenCodec.Micros(payload.IssuedAt), TokenCodec.Micros(decoded.IssuedAt));

        Assert.Equal(2, keys.Rotate());
        Assert.Equal([0, 1, 2], keys.Indexes());
        Assert.NotNull(codec.Decode(token));
        Assert.Equal(3, keys.Rotate());
        // Max 3 keys: staged 0, primary 3, secondary 2; key 1 (which sealed the token) is gone.
        Assert.Equal([0, 2, 3], keys.Indexes());
        Assert.Null(codec.Decode(token));
    }

    [Fact]
    public void A_token_sealed_with_the_staged_key_of_another_node_is_accepted_before_this_node_rotates()
    {
        var keys = new KeyRepository(_dir, 3);
        var copy = _dir + "-copy";
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(_dir)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        var rotated = new KeyRepository(copy, 3);
        rotated.Rotate();
        var token = new TokenCodec(rotated).Encode(Payload());
        Assert.NotNull(new TokenCodec(keys).Decode(token));
        Directory.Delete(copy, true);
    }

    [Fact]
    public void Garbage_and_tampered_tokens_decode_to_nothing()
    {
        var codec = new TokenCodec(new KeyRepository(_dir, 3));
        var token = codec.Encode(Payload());
        Assert.Null(codec.Decode(""));
        Assert.Null(codec.Decode("not a token at all, clearly not base64 !!!!!!!!!!!"));
        Assert.Null(codec.Decode(token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1]));
        Assert.Null(codec.Decode(new string('k', 2000)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

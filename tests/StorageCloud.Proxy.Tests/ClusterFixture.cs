namespace StorageCloud.Proxy.Tests;

/// <summary>One cluster shared by the tests of a class, with a token for test:tester.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public ClusterHost Host { get; private set; } = null!;

    public string Token { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Host = await ClusterHost.StartAsync();
        (Token, _) = await Host.AuthAsync();
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();

    /// <summary>A container name no other test uses.</summary>
    public static string NewName(string prefix = "c") => prefix + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Creates a container as test:tester and returns its path.</summary>
    public async Task<string> NewContainerAsync(params (string, string)[] headers)
    {
        var path = "/v1/AUTH_test/" + NewName();
        using var r = await Host.SendAsync(HttpMethod.Put, path, Token, null, headers);
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        return path;
    }
}

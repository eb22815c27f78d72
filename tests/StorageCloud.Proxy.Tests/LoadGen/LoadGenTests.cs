using StorageCloud.LoadGen;

namespace StorageCloud.Proxy.Tests.LoadGen;

/// <summary>The load generator against a real cluster: it counts what it did, and counts failures as failures.</summary>
public sealed class LoadGenTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_mixed_run_counts_every_operation_and_no_errors()
    {
        using var target = await SwiftTarget.ConnectAsync(fixture.Host.BaseUrl + "/auth/v1.0", "test:tester", "testing", null, null, 8);
        var options = new WorkloadOptions
        {
            Mix = Program.ParseMix("put=30,get=40,head=20,list=10"), MinSize = 1024, MaxSize = 32 * 1024,
            Concurrency = 8, Count = 300, Prefill = 20, Container = ClusterFixture.NewName("lg"),
        };
        var result = await Runner.RunAsync(target, options);
        Assert.Equal(300, result.Total);
        Assert.Equal(0, result.Errors);
        Assert.Equal(["get", "head", "list", "put"], result.Ops.Select(o => o.Op));
        foreach (var o in result.Ops)
        {
            Assert.True(o.P50Ms <= o.P90Ms && o.P90Ms <= o.P99Ms && o.P99Ms <= o.MaxMs, o.ToString());
            Assert.True(o.OpsPerSecond > 0);
        }
        var again = RunResult.FromJson(result.ToJson());
        Assert.Equal(result.Total, again.Total);
        // Everything it wrote is really there: 20 prefilled objects plus every successful PUT.
        using var listing = await fixture.Host.SendAsync(HttpMethod.Get, $"/v1/AUTH_test/{options.Container}", fixture.Token);
        var puts = result.Ops.Single(o => o.Op == "put").Count;
        Assert.Equal(20 + puts, (await listing.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Failed_requests_are_errors_by_status_never_successes()
    {
        using var target = await SwiftTarget.ConnectAsync(null, null, null, fixture.Host.BaseUrl + "/v1/AUTH_test", "AUTH_tkwrong", 4);
        var result = await Runner.RunAsync(target, new WorkloadOptions { Mix = Program.ParseMix("put=1,get=1"), Concurrency = 4, Count = 40, Prefill = 0 });
        Assert.Equal(40, result.Total);
        Assert.Equal(40, result.Errors);
        Assert.Equal(1.0, result.ErrorRate);
        Assert.Equal(40, result.ErrorsByStatus["401"]);
        Assert.All(result.Ops, o => Assert.Equal(0, o.MiBPerSecond));
        Assert.Equal((1024L, 1048576L), Program.ParseSize("1KiB-1MiB"));
    }
}

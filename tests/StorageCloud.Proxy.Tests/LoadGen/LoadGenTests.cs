using System.Net;
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
        // The first failures are kept in detail (operation, name, status), no more than the limit.
        Assert.Equal(Recorder.ErrorDetails, result.FirstErrors!.Count);
        Assert.All(result.FirstErrors, e => Assert.Matches(@"^(put obj-\d{3}-[0-9a-f]{32}|get missing) -> 401 after \d+\.\d ms$", e));
        Assert.All(result.Ops, o => Assert.Equal(0, o.MiBPerSecond));
        Assert.Equal((1024L, 1048576L), Program.ParseSize("1KiB-1MiB"));
    }
}

/// <summary>The load generator's S3 mode and its arithmetic, checked without timing anything.</summary>
public sealed class LoadGenS3Tests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public void The_signer_reproduces_the_documented_SigV4_example()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://examplebucket.s3.amazonaws.com/test.txt");
        S3Signer.Sign(request, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
            new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            [new("Range", "bytes=0-9")]);
        var authorization = request.Headers.GetValues("Authorization").Single();
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", authorization);
    }

    [Fact]
    public void Percentiles_are_nearest_rank_and_throughput_counts_only_successes()
    {
        var recorder = new Recorder();
        for (var i = 1; i <= 100; i++) recorder.Add("get", i, i <= 98 ? 200 : 503, 1024 * 1024);
        recorder.Add("put", 5, 201, 2 * 1024 * 1024);
        var result = RunResult.From(recorder, TimeSpan.FromSeconds(2), new WorkloadOptions { Mix = Program.ParseMix("get=1"), Concurrency = 4 });
        var get = result.Ops.Single(o => o.Op == "get");
        Assert.Equal((50.0, 90.0, 99.0, 100.0), (get.P50Ms, get.P90Ms, get.P99Ms, get.MaxMs));
        Assert.Equal(50.0, get.OpsPerSecond);
        Assert.Equal(49.0, get.MiBPerSecond);
        Assert.Equal(2, get.Errors);
        Assert.Equal(2, result.ErrorsByStatus["503"]);
        Assert.Equal(["get -> 503 after 99.0 ms", "get -> 503 after 100.0 ms"], result.FirstErrors);
        Assert.Equal(101, result.Total);
        Assert.Equal(1.0, result.Ops.Single(o => o.Op == "put").MiBPerSecond);
        Assert.Equal(2.0 / 101, result.ErrorRate, 10);
    }

    [Fact]
    public async Task A_mixed_S3_run_counts_every_operation_and_no_errors()
    {
        using var target = new S3Target(fixture.Host.BaseUrl, "test:tester", "testing", "us-east-1", 8);
        var options = new WorkloadOptions
        {
            Mix = Program.ParseMix("put=30,get=40,head=10,delete=10,list=10"), MinSize = 1024, MaxSize = 16 * 1024,
            Concurrency = 8, Count = 200, Prefill = 20, Container = "lgs3-" + Guid.NewGuid().ToString("N")[..8],
        };
        var result = await Runner.RunAsync(target, options);
        Assert.Equal(200, result.Total);
        // A delete may pick a name another worker deleted first: S3 answers 204 either way.
        Assert.Equal(0, result.Errors);
        Assert.Equal(["delete", "get", "head", "list", "put"], result.Ops.Select(o => o.Op));
        using var listing = await fixture.Host.SendAsync(HttpMethod.Get, $"/v1/AUTH_test/{options.Container}", fixture.Token);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
    }
}

using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>`storagecloud-loadgen`, run as a user runs it, for five seconds against the real all-in-one appliance.</summary>
public sealed class LoadGenApplianceTests(AioFixture aio) : IClassFixture<AioFixture>
{
    [Fact]
    public async Task A_five_second_mixed_run_against_the_appliance_adds_up()
    {
        var json = Path.Combine(aio.Root, "loadgen.json");
        var loadgen = Path.Combine(AppContext.BaseDirectory, "storagecloud-loadgen.dll");
        var (exit, stdout, stderr) = await CliRunner.RunAsync("dotnet",
        [
            loadgen, "--auth-url", $"{aio.Url}/auth/v1.0", "--user", "test:tester", "--key", "testing",
            "--op", "mixed", "--mix", "put=30,get=40,head=10,delete=10,list=10", "--size", "1KiB-64KiB",
            "--duration", "5s", "--concurrency", "8", "--prefill", "50", "--container", "lg5s", "--json", json,
        ], null, aio.Root, TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"loadgen exited {exit}: {stdout} {stderr}");
        var result = JsonNode.Parse(await File.ReadAllTextAsync(json))!;
        var ops = result["Ops"]!.AsArray().ToDictionary(o => o!["Op"]!.GetValue<string>(), o => o!["Count"]!.GetValue<long>());
        Assert.Equal(["delete", "get", "head", "list", "put"], ops.Keys.Order().ToArray());
        Assert.All(ops.Values, count => Assert.True(count > 0));
        Assert.Equal(ops.Values.Sum(), result["Total"]!.GetValue<long>());
        Assert.True(result["Errors"]!.GetValue<long>() == 0 && result["ErrorsByStatus"]!.AsObject().Count == 0,
            $"errors: {result["ErrorsByStatus"]!.ToJsonString()} {result["FirstErrors"]!.ToJsonString()}\nappliance: {aio.Process.Stdout} {aio.Process.Stderr}");
        Assert.InRange(result["Seconds"]!.GetValue<double>(), 5, 8);
        // What it says it did is what the appliance holds: the prefill, plus every PUT, less every DELETE.
        var listing = await aio.SwiftAsync("list", "lg5s");
        Assert.Equal(50 + ops["put"] - ops["delete"], listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}

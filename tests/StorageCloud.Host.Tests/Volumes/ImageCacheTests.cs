using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace StorageCloud.Host.Tests.Volumes;

/// <summary>An appliance whose converted images are forgotten after one idle second.</summary>
public sealed class ShortImageCacheFixture : CloudFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>
    {
        ["STORAGECLOUD__Block__ImageCacheIdleSeconds"] = "1",
    };
}

/// <summary>
/// The cache of images converted to raw chunks: an image's layer stays while volumes read through it, is forgotten
/// once no volume was made from it for Block:ImageCacheIdleSeconds (as a deleted image's is), its chunks go when the
/// last volume reading it goes, and the next volume from the image converts it again, with the same data.
/// </summary>
public sealed class ImageCacheTests(ShortImageCacheFixture cloud) : IClassFixture<ShortImageCacheFixture>
{
    private async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(cloud.DataDir, "block", "block.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private async Task<string> VolumeFromAsync(string image)
    {
        var (token, project) = cloud.A;
        var (status, made) = await cloud.SendAsync(HttpMethod.Post, $"/v3/{project}/volumes", token,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = image } });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = made!["volume"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 300; i++)
        {
            var (_, shown) = await cloud.SendAsync(HttpMethod.Get, $"/v3/{project}/volumes/{id}", token);
            var state = shown!["volume"]!["status"]!.GetValue<string>();
            if (state == "available") return id;
            Assert.NotEqual("error", state);
            await Task.Delay(100);
        }
        throw new TimeoutException($"volume {id} never became available");
    }

    [Fact]
    public async Task Idle_converted_images_are_forgotten_and_their_chunks_go_with_the_last_volume_reading_them()
    {
        var (token, project) = cloud.A;
        var first = await cloud.ImageAsync(token, Enumerable.Repeat((byte)0x5a, 1 << 20).ToArray(), "cached-first");
        var second = await cloud.ImageAsync(token, Enumerable.Repeat((byte)0xa5, 1 << 20).ToArray(), "cached-second");
        var volume = await VolumeFromAsync(first);
        var layer = Assert.Single(await QueryAsync($"SELECT layer_id FROM image_layers WHERE id = '{first}'"));

        // A volume from another image, past the idle time: the first image's layer is forgotten, but kept for the volume reading it.
        await Task.Delay(1500);
        var other = await VolumeFromAsync(second);
        Assert.Empty(await QueryAsync($"SELECT layer_id FROM image_layers WHERE id = '{first}'"));
        Assert.Single(await QueryAsync($"SELECT id FROM image_layers WHERE id = '{second}'"));
        Assert.Single(await QueryAsync($"SELECT id FROM layers WHERE id = '{layer}'"));

        // The last volume reading it goes: so do its chunks' layer.
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{project}/volumes/{volume}", token)).Status);
        for (var i = 0; i < 100 && (await QueryAsync($"SELECT id FROM layers WHERE id = '{layer}'")).Count > 0; i++) await Task.Delay(100);
        Assert.Empty(await QueryAsync($"SELECT id FROM layers WHERE id = '{layer}'"));

        // The next volume from the image converts it again.
        await VolumeFromAsync(first);
        var again = Assert.Single(await QueryAsync($"SELECT layer_id FROM image_layers WHERE id = '{first}'"));
        Assert.NotEqual(layer, again);
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendAsync(HttpMethod.Delete, $"/v3/{project}/volumes/{other}", token)).Status);
    }
}

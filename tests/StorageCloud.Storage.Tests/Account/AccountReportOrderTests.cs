using StorageCloud.Common.Time;
using StorageCloud.Storage.Account;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Tests.Account;

/// <summary>
/// Container reports reach account replicas in any order (from several container replicas, a handoff's among them,
/// and again through account replication); every order must leave the same counts: the freshest report's.
/// </summary>
public sealed class AccountReportOrderTests
{
    private static readonly (string Put, string Delete, long Objects, long Bytes, string ChangedAt)[] Reports =
    [
        // A handoff that held the container while a primary was down: it never saw the object.
        ("1700000000.00000", "0000000000.00000", 0, 0, ""),
        // The primaries, which saw the object written after the container.
        ("1700000000.00000", "0000000000.00000", 1, 5, "1700000005.00000"),
        ("1700000000.00000", "0000000000.00000", 1, 5, "1700000005.00000"),
    ];

    [Fact]
    public async Task Every_order_of_the_same_reports_ends_with_the_freshest_counts()
    {
        using var dir = new TempDir();
        var seen = new HashSet<string>();
        var orders = new[] { new[] { 0, 1, 2 }, [1, 0, 2], [1, 2, 0], [2, 0, 1] };
        for (var o = 0; o < orders.Length; o++)
        {
            await using var engine = DeviceEngine.Open(Directory.CreateDirectory(dir.Sub($"d{o}")).FullName, new DeviceEngineOptions { MountCheck = false });
            var store = new AccountStore(engine);
            var hash = new byte[16];
            Assert.Equal(AccountStore.PutOutcome.Created, store.Put(hash, "AUTH_a", SwiftTimestamp.Parse("1690000000.00000"), []));
            foreach (var i in orders[o])
            {
                var (put, delete, objects, bytes, changed) = Reports[i];
                Assert.True(store.PutContainer(hash, "a3", put, delete, objects, bytes, changed));
            }
            var info = store.GetInfo(hash)!;
            seen.Add($"{info.ObjectCount}:{info.BytesUsed}:{info.ContainerCount}");
        }
        Assert.Equal(["1:5:1"], seen);
    }

    [Fact]
    public async Task A_newer_put_or_delete_still_wins_over_a_fresher_object_change()
    {
        using var dir = new TempDir();
        await using var engine = DeviceEngine.Open(Directory.CreateDirectory(dir.Sub("d")).FullName, new DeviceEngineOptions { MountCheck = false });
        var store = new AccountStore(engine);
        var hash = new byte[16];
        store.Put(hash, "AUTH_a", SwiftTimestamp.Parse("1690000000.00000"), []);
        store.PutContainer(hash, "c", "1700000000.00000", "0000000000.00000", 3, 30, "1700000009.00000");
        // Deleted (and emptied) later: the delete is newer than anything the old report knew.
        store.PutContainer(hash, "c", "1700000000.00000", "1700000010.00000", 0, 0, "1700000009.50000");
        store.PutContainer(hash, "c", "1700000000.00000", "0000000000.00000", 3, 30, "1700000009.00000");
        var info = store.GetInfo(hash)!;
        Assert.Equal((0L, 0L, 0L), (info.ObjectCount, info.BytesUsed, info.ContainerCount));
    }
}

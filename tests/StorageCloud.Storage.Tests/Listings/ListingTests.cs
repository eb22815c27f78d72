using System.Text.Json;
using StorageCloud.Storage.Listings;

namespace StorageCloud.Storage.Tests.Listings;

/// <summary>The listing algorithm against answers from Swift's own ContainerBroker (generate_listings.py).</summary>
public class ListingTests
{
    private sealed class InMemoryRows(IEnumerable<string> names) : ISortedRows<int>
    {
        private readonly List<(byte[] Key, string Name)> _rows =
            names.Select(n => (Listing.Utf8(n), n)).OrderBy(r => r.Item1, Comparer<byte[]>.Create((a, b) => Listing.Compare(a, b))).ToList();

        public IEnumerable<(string Name, int Row)> Range(byte[]? lower, bool lowerInclusive, byte[]? upper, bool descending)
        {
            bool In((byte[] Key, string Name) r)
                => (lower is null || Listing.Compare(r.Key, lower) > 0 || (lowerInclusive && Listing.Compare(r.Key, lower) == 0))
                   && (upper is null || Listing.Compare(r.Key, upper) < 0);
            var selected = _rows.Where(In).Select((r, i) => (r.Name, i));
            return descending ? selected.Reverse() : selected;
        }
    }

    [Fact]
    public void Matches_swifts_container_broker_for_every_vector()
    {
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Listings", "Vectors", "listings.json"))).RootElement;
        var rows = new InMemoryRows(root.GetProperty("names").EnumerateArray().Select(n => n.GetString()!));
        var count = 0;
        foreach (var q in root.GetProperty("queries").EnumerateArray())
        {
            string? S(string name) => q.GetProperty(name).ValueKind == JsonValueKind.Null ? null : q.GetProperty(name).GetString();
            var query = new ListingQuery(q.GetProperty("limit").GetInt32(), S("marker"), S("end_marker"), S("prefix"), S("delimiter"), S("path"),
                q.GetProperty("reverse").GetBoolean());
            var expected = q.GetProperty("expected").EnumerateArray().Select(e => (e[0].GetString()!, e[1].GetBoolean())).ToList();
            var actual = Listing.Run(rows, query).Select(e => (e.Name, e.IsSubdir)).ToList();
            Assert.True(expected.SequenceEqual(actual), $"query {q}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", actual)}]");
            count++;
        }
        Assert.Equal(400, count);
    }
}

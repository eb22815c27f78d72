using System.Text.RegularExpressions;
using StorageCloud.Common.Http;

namespace StorageCloud.Common.Tests.Http;

public class TransactionIdTests
{
    [Fact]
    public void Has_swifts_shape_and_current_time()
    {
        var id = TransactionId.New();
        var match = Regex.Match(id, "^tx([0-9a-f]{21})-([0-9a-f]{10})$");
        Assert.True(match.Success, id);
        var seconds = Convert.ToInt64(match.Groups[2].Value, 16);
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.NotEqual(id, TransactionId.New());
        Assert.EndsWith("-node1", TransactionId.New("-node1"));
    }
}

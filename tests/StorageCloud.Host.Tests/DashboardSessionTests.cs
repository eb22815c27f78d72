using StorageCloud.Dashboard.Web;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests;

/// <summary>The dashboard's session store: idle sessions expire when used and are swept when nobody comes back for them.</summary>
public sealed class DashboardSessionTests
{
    private static Session NewSession() => new()
    {
        Token = "t", UserName = "u", UserId = "1", Domain = "Default", ProjectId = "p", ProjectName = "p", Endpoints = [],
    };

    [Fact]
    public void Abandoned_sessions_are_swept_and_a_used_one_stays()
    {
        var clock = new ManualClock();
        var store = new SessionStore(TimeSpan.FromMinutes(30), clock, sweepEvery: TimeSpan.FromMinutes(1));
        var kept = store.Add(NewSession());
        for (var i = 0; i < 50; i++) store.Add(NewSession());
        Assert.Equal(51, store.Count);
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(10));
            Assert.NotNull(store.Find(kept));
        }
        store.Add(NewSession());
        Assert.Equal(2, store.Count);
        Assert.NotNull(store.Find(kept));
        clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Null(store.Find(kept));
        Assert.False(SessionStore.SameToken("abc", "abd"));
        Assert.True(SessionStore.SameToken("abc", "abc"));
    }
}

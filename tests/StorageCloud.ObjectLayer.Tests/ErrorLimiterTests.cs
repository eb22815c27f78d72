using StorageCloud.Ring;
using StorageCloud.Tests;

namespace StorageCloud.ObjectLayer.Tests;

/// <summary>Swift's error limiting: a device that fails too often is skipped for a while; an unmounted one at once.</summary>
public sealed class ErrorLimiterTests
{
    private static readonly RingDevice Sda = new() { Id = 0, Zone = 1, Ip = "127.0.0.1", Port = 6200, Device = "sda", Weight = 100 };
    private static readonly RingDevice Sdb = new() { Id = 1, Zone = 2, Ip = "127.0.0.1", Port = 6200, Device = "sdb", Weight = 100 };

    [Fact]
    public void A_device_is_skipped_once_its_errors_pass_the_limit_and_only_it()
    {
        var limiter = new ErrorLimiter(new ObjectLayerOptions { ErrorSuppressionLimit = 2 });
        limiter.Error(Sda);
        limiter.Error(Sda);
        Assert.False(limiter.IsLimited(Sda));
        limiter.Error(Sda);
        Assert.True(limiter.IsLimited(Sda));
        Assert.False(limiter.IsLimited(Sdb));
        limiter.Reset();
        Assert.False(limiter.IsLimited(Sda));
    }

    [Fact]
    public void An_unmounted_device_is_skipped_at_once_and_is_tried_again_after_the_interval()
    {
        var clock = new ManualClock();
        var limiter = new ErrorLimiter(new ObjectLayerOptions { ErrorSuppressionLimit = 10, ErrorSuppressionInterval = TimeSpan.FromSeconds(60) }, clock);
        limiter.Limit(Sda);
        Assert.True(limiter.IsLimited(Sda));
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True(limiter.IsLimited(Sda));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(limiter.IsLimited(Sda));
        // Its errors are forgotten with the suppression, so one more error does not limit it again.
        limiter.Error(Sda);
        Assert.False(limiter.IsLimited(Sda));
    }
}

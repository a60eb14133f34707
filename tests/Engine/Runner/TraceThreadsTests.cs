using Xunit;

namespace ConnTrack.Engine.Tests.Runner;

public class TraceThreadsTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    // One core: one thread whatever the size.
    [InlineData(4096 * MiB, 1, 1)]
    // Below 128 MiB: one thread whatever the cores.
    [InlineData(10 * MiB, 2, 1)]
    [InlineData(128 * MiB - 1, 8, 1)]
    // From 128 MiB on 2 cores or more: every core (one reading, the others tracking).
    [InlineData(128 * MiB, 2, 2)]
    [InlineData(4096 * MiB, 2, 2)]
    [InlineData(4096 * MiB, 8, 8)]
    public void EveryCoreFrom128MiB_OneThreadBelow(long firstFileBytes, int cores, int threads)
    {
        Assert.Equal(threads, TraceThreads.For(firstFileBytes, cores));
    }

    [Theory]
    [InlineData(1, 1)] // one thread reads and tracks
    [InlineData(2, 1)] // one reads, one tracks
    [InlineData(3, 2)]
    [InlineData(255, 254)]
    public void AllButTheReadingThreadTrack(int threads, int tracking)
    {
        Assert.Equal(tracking, TraceThreads.TrackingThreads(threads));
    }

    [Fact]
    public void NoThreadsIsAnError()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TraceThreads.TrackingThreads(0));
    }
}

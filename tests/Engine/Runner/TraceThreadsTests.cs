using Xunit;

namespace ConnTrack.Engine.Tests.Runner;

public class TraceThreadsTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    // Two cores: one thread whatever the size (two shards took the same wall time for more CPU there).
    [InlineData(10 * MiB, 2, 1)]
    [InlineData(4096 * MiB, 2, 1)]
    [InlineData(4096 * MiB, 1, 1)]
    // Three cores or more: every core from 128 MiB, one thread below.
    [InlineData(128 * MiB - 1, 4, 1)]
    [InlineData(128 * MiB, 3, 3)]
    [InlineData(4096 * MiB, 8, 8)]
    public void ShardsOnlyWhereItPays(long firstFileBytes, int cores, int threads)
    {
        Assert.Equal(threads, TraceThreads.For(firstFileBytes, cores));
    }
}

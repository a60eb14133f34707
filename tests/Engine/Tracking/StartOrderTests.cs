using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>The flush's sort: ascending start times, each slot moved with its time, ties in the order given.</summary>
public sealed class StartOrderTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(1000, 3)]
    [InlineData(81349, 4)]
    public void SortsAsAStableSortByStartTime(int n, int seed)
    {
        var rng = new Random(seed);
        var starts = new long[n];
        for (int i = 0; i < n; i++)
            // 40 s of nanosecond times from a 2026 epoch, with many equal times (microsecond captures).
            starts[i] = 1_796_000_000_000_000_000L + rng.NextInt64(40_000_000) * 1000;
        AssertSortsLikeAStableSort(starts);
    }

    [Fact]
    public void TimesSpanningTheWholeRangeOfLong()
    {
        AssertSortsLikeAStableSort([long.MaxValue, 0, long.MinValue, -1, 1, long.MaxValue, long.MinValue, 42]);
    }

    [Fact]
    public void AllEqualKeepsTheOrderGiven()
    {
        AssertSortsLikeAStableSort(Enumerable.Repeat(123L, 500).ToArray());
    }

    private static void AssertSortsLikeAStableSort(long[] starts)
    {
        var slots = Enumerable.Range(0, starts.Length).Select(i => i * 7 + 3).ToArray();
        var expected = starts.Select((t, i) => (t, slot: slots[i])).OrderBy(e => e.t).ToArray(); // OrderBy is stable
        StartOrder.Sort(starts, slots);
        Assert.Equal(expected.Select(e => e.t), starts);
        Assert.Equal(expected.Select(e => e.slot), slots);
    }
}

using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

public class ConnectionHistoryTests
{
    private sealed class NullSink : IConnSink
    {
        public void Write(ConnRecord record) { }
    }

    private static Connection NewConnection() =>
        new(new ConnTracker(new ConnTrackOptions(), new NullSink()), default, TransportProto.Tcp, 6, 0);

    [Fact]
    public void EmptyHistoryIsTheEmptyString()
    {
        var c = NewConnection();
        Assert.Equal("", c.History);
        Assert.Equal(0, c.HistoryLength);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(100)]
    public void LettersComeBackInOrderAcrossTheInlinePart(int count)
    {
        var c = NewConnection();
        var expected = new char[count];
        for (int i = 0; i < count; i++)
        {
            char letter = "ShADadFfTtCcGgWw^"[i % 17];
            expected[i] = letter;
            c.AddHistory(letter);
        }
        Assert.Equal(new string(expected), c.History);
        Assert.Equal(count, c.HistoryLength);
    }

    [Fact]
    public void CheckHistoryAddsALetterOnce()
    {
        var c = NewConnection();
        Assert.False(c.CheckHistory(0x1, 'S'));
        Assert.True(c.CheckHistory(0x1, 'S'));
        Assert.False(c.CheckHistory(0x1 << 16, 's'));
        Assert.Equal("Ss", c.History);
    }

    [Fact]
    public void RewritingFlipSwapsCaseOfALongHistory()
    {
        var c = NewConnection();
        foreach (var letter in "HtTtTtTtTtTtTtTtTtAd")
            c.AddHistory(letter);
        c.FlipRolesRewritingHistory();
        Assert.Equal("^hTtTtTtTtTtTtTtTtTaD", c.History);
    }
}

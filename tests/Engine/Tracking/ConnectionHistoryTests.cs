using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

public class ConnectionHistoryTests
{
    private static Connection NewConnection()
    {
        var c = new Connection { Protocol = 6 };
        c.InitTcp();
        return c;
    }

    [Fact]
    public void EmptyHistoryIsTheEmptyString()
    {
        var c = NewConnection();
        Assert.Equal("", c.History);
        Assert.Equal(0, c.HistoryLength);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
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
        Assert.False(c.CheckHistory(0x1 << Connection.RespHistShift, 's'));
        Assert.Equal("Ss", c.History);
    }

    [Fact]
    public void RewritingFlipSwapsCaseOfALongHistory()
    {
        var c = NewConnection();
        foreach (var letter in "HtTtTtTtTtTtTtTtTtAd")
            c.AddHistory(letter);
        c.FlipRolesRewritingHistory(new LinkContexts());
        Assert.Equal("^hTtTtTtTtTtTtTtTtTaD", c.History);
    }
}

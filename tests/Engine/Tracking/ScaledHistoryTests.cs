using ConnTrack.Engine.Config;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>The logarithmic history letters (c, g, t, w), whose 32-bit threshold is kept as a byte step.</summary>
public class ScaledHistoryTests
{
    private static Connection NewConn()
    {
        var c = new Connection();
        c.SetKey(FlowKey.Create(IPAddr128.FromIPv4(1), 1, IPAddr128.FromIPv4(2), 2, 6, true), new Ipv6AddrStore());
        c.InitTcp();
        return c;
    }

    [Fact]
    public void ThresholdStepsAreZeeksTimesTenIn32BitsUpToTheWrap()
    {
        var expected = new List<uint>();
        uint t = 1;
        while (true)
        {
            expected.Add(t);
            uint next = unchecked(t * 10);
            if (next <= t) break;
            t = next;
        }
        Assert.Equal(expected, Connection.ScaledThresholds.ToArray());
    }

    [Fact]
    public void LettersAppearAtTheFirstTenthAndHundredthEvent()
    {
        var conn = NewConn();
        uint counter = 0;
        byte scale = 0;
        var at = new List<int>();
        for (int i = 1; i <= 1000; i++)
            if (conn.ScaledHistoryEntry('T', ref counter, ref scale))
                at.Add(i);
        Assert.Equal(new[] { 1, 10, 100, 1000 }, at);
        Assert.Equal("TTTT", conn.History);
        Assert.Equal(4, scale);
    }

    [Fact]
    public void AtTheLastThresholdTheCounterRestartsAndTheThresholdStays()
    {
        var conn = NewConn();
        byte last = (byte)(Connection.ScaledThresholds.Length - 1);
        uint counter = 1_410_065_407;
        byte scale = last;
        Assert.True(conn.ScaledHistoryEntry('g', ref counter, ref scale));
        Assert.Equal(0u, counter);
        Assert.Equal(last, scale);
    }
}

using System.Runtime.CompilerServices;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Tracking;
using ConnTrack.Engine.Tracking.Tcp;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>The slab entry's size (the memory target rests on it) and the parts of a connection that spill to its cold part.</summary>
public class ConnectionLayoutTests
{
    [Fact]
    public void AConnectionEntryIs152BytesAndItsDatagramStateFitsInTheTcpEndpoints()
    {
        Assert.Equal(152, Unsafe.SizeOf<Connection>());
        Assert.Equal(20, Unsafe.SizeOf<TcpEndpoint>());
        Assert.True(Unsafe.SizeOf<DatagramState>() <= Unsafe.SizeOf<TcpEndpoints>());
    }

    [Fact]
    public void CountersCarryIntoTheColdPartPast32Bits()
    {
        var c = new Connection();
        for (int i = 0; i < 3; i++)
            c.CountPacket(isOrig: true, uint.MaxValue); // 3 * (2^32 - 1) bytes
        Assert.Equal(3UL, c.OrigPkts);
        Assert.Equal(3UL * uint.MaxValue, c.OrigIpBytes);
        Assert.NotNull(c.Rare);
        Assert.Equal(0UL, c.RespPkts);

        var d = new Connection();
        d.CountPacket(isOrig: false, 40);
        Assert.Null(d.Cold); // no carry: nothing cold or rare
        Assert.Equal(1UL, d.RespPkts);
        Assert.Equal(40UL, d.RespIpBytes);
    }

    [Fact]
    public void FlipSwapsCountersIncludingTheirUpperHalves()
    {
        var c = new Connection { Protocol = 17 };
        c.CountPacket(isOrig: true, uint.MaxValue);
        c.CountPacket(isOrig: true, 2); // carries: orig bytes 2^32 + 1
        c.CountPacket(isOrig: false, 7);
        c.FlipRoles(new LinkContexts());
        Assert.Equal(1UL, c.OrigPkts);
        Assert.Equal(7UL, c.OrigIpBytes);
        Assert.Equal(2UL, c.RespPkts);
        Assert.Equal((1UL << 32) + 1, c.RespIpBytes);
        Assert.Equal("^", c.History);
    }

    [Fact]
    public void Ipv6AddressesComeBackFromTheStoreAndTheOriginatorFollowsFlips()
    {
        var v6 = new Ipv6AddrStore();
        var a = IPAddr128.Parse("2001:db8::1");
        var b = IPAddr128.Parse("2001:db8::2");
        var c = new Connection();
        c.SetKey(FlowKey.Create(b, 443, a, 5000, 6, true), v6);
        c.InitTcp();
        c.SetOriginator(a, 5000, v6);
        Assert.True(c.IsV6);
        Assert.Equal(a, c.OrigAddr(v6));
        Assert.Equal(b, c.RespAddr(v6));
        Assert.Equal(5000, c.OrigPort);
        Assert.True(c.IsOrigEndpoint(a, 5000, v6));
        Assert.False(c.IsOrigEndpoint(b, 443, v6));
        c.FlipRoles(new LinkContexts());
        Assert.Equal(b, c.OrigAddr(v6));
        Assert.Equal(443, c.OrigPort);
        Assert.True(c.IsOrigEndpoint(b, 443, v6));
    }
}

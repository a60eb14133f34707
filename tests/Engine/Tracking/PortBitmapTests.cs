using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>The tracker's port sets: every port given is in, every other port out, at the word edges too.</summary>
public sealed class PortBitmapTests
{
    [Fact]
    public void HoldsExactlyThePortsGiven()
    {
        ushort[] given = [0, 53, 63, 64, 127, 128, 8080, 65472, 65535];
        var set = new PortBitmap(given);
        var expected = new HashSet<ushort>(given);
        for (int port = 0; port <= ushort.MaxValue; port++)
            Assert.Equal(expected.Contains((ushort)port), set.Contains((ushort)port));
    }

    [Fact]
    public void OfTakesThePortsOfOneProtocol()
    {
        PortSpec[] specs = [new(53, TransportProto.Udp), new(80, TransportProto.Tcp), new(443, TransportProto.Tcp), new(8, TransportProto.Icmp)];
        var tcp = PortBitmap.Of(specs, TransportProto.Tcp);
        var udp = PortBitmap.Of(specs, TransportProto.Udp);
        Assert.True(tcp.Contains(80) && tcp.Contains(443));
        Assert.False(tcp.Contains(53) || tcp.Contains(8));
        Assert.True(udp.Contains(53));
        Assert.False(udp.Contains(80) || udp.Contains(443) || udp.Contains(8));
    }

    [Fact]
    public void EmptyHoldsNothing()
    {
        var set = new PortBitmap([]);
        for (int port = 0; port <= ushort.MaxValue; port++)
            Assert.False(set.Contains((ushort)port));
    }
}

using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

public class BpfFilterTests
{
    private const long T = 1_700_000_000_123_456_789L;

    private static bool Match(BpfFilter filter, byte[] data, LinkType link) =>
        filter.Matches(new RawFrame(data, T, data.Length, link, 0));

    [Fact]
    public void TcpPort80OnEthernet()
    {
        using var filter = new BpfFilter("tcp port 80");
        Assert.True(Match(filter, EthernetIpv4(6, 51000, 80), LinkType.Ethernet));
        Assert.True(Match(filter, EthernetIpv4(6, 80, 51000), LinkType.Ethernet));
        Assert.False(Match(filter, EthernetIpv4(17, 51000, 53), LinkType.Ethernet));
        Assert.False(Match(filter, EthernetIpv4(17, 51000, 80), LinkType.Ethernet));   // udp, not tcp
        Assert.False(Match(filter, EthernetIpv4(6, 51000, 443), LinkType.Ethernet));
    }

    [Theory]
    [InlineData(LinkType.Raw)]
    [InlineData(LinkType.Ipv4)]
    public void TcpPort80OnRawIp(LinkType link)
    {
        using var filter = new BpfFilter("tcp port 80");
        Assert.True(Match(filter, Ipv4(6, 51000, 80), link));
        Assert.False(Match(filter, Ipv4(17, 51000, 53), link));
    }

    [Fact]
    public void OneFilterServesSeveralLinkTypes()
    {
        using var filter = new BpfFilter("udp port 53");
        Assert.True(Match(filter, EthernetIpv4(17, 40000, 53), LinkType.Ethernet));
        Assert.True(Match(filter, Ipv4(17, 40000, 53), LinkType.Raw));
        // the same bytes mean different things per link type: raw IP read as Ethernet does not match
        Assert.False(Match(filter, Ipv4(17, 40000, 53), LinkType.Ethernet));
        Assert.False(Match(filter, EthernetIpv4(6, 40000, 80), LinkType.Ethernet));
    }

    [Fact]
    public void SnapCutFrameIsJudgedOnWhatWasCaptured()
    {
        using var filter = new BpfFilter("tcp port 80");
        var full = EthernetIpv4(6, 51000, 80);
        // cut inside the IP header: the port cannot be seen, libpcap's filter says no
        Assert.False(filter.Matches(new RawFrame(full.AsSpan(0, 20), T, full.Length, LinkType.Ethernet, 0)));
        Assert.False(filter.Matches(new RawFrame(ReadOnlySpan<byte>.Empty, T, 0, LinkType.Ethernet, 0)));
    }

    [Fact]
    public void FiltersFramesFromAReader()
    {
        var bytes = Pcap(LinkType.Ethernet, false, false, 65535,
            (EthernetIpv4(6, 1000, 80), T, 54), (EthernetIpv4(17, 1000, 53), T, 42), (EthernetIpv4(6, 80, 1000), T, 54));
        using var reader = OpenBytes(bytes);
        using var filter = new BpfFilter("tcp port 80");
        int matched = 0, total = 0;
        while (reader.TryReadNext(out var frame))
        {
            total++;
            if (filter.Matches(frame))
                matched++;
        }
        Assert.Equal((3, 2), (total, matched));
    }

    [Fact]
    public void BadExpressionQuotesItAndLibpcap()
    {
        using var filter = new BpfFilter("tcp port eighty");
        var e = Assert.Throws<CaptureFilterException>(() => filter.Prepare(LinkType.Ethernet));
        Assert.Equal("tcp port eighty", e.Expression);
        Assert.False(e.LibraryMissing);
        Assert.Contains("\"tcp port eighty\"", e.Message);
        Assert.Contains("eighty", e.Message[(e.Message.IndexOf(':') + 1)..]);      // libpcap's own words follow
        // and the same on first use
        var frame = EthernetIpv4(6, 1, 80);
        Assert.Throws<CaptureFilterException>(() => filter.Matches(new RawFrame(frame, T, frame.Length, LinkType.Ethernet, 0)));
    }

    [Fact]
    public void ExpressionInvalidForALinkTypeFailsOnlyThere()
    {
        using var filter = new BpfFilter("ether host 00:01:02:03:04:05");
        filter.Prepare(LinkType.Ethernet);
        var e = Assert.Throws<CaptureFilterException>(() => filter.Prepare(LinkType.Raw));
        Assert.Contains("Raw", e.Message);
    }

    [Fact]
    public void MissingLibpcapSaysHowToGetIt()
    {
        var e = Assert.Throws<CaptureFilterException>(() =>
            BpfFilter.Native.LoadLibrary("tcp", ["libconntrack-no-such-pcap.so.9", "no-such-wpcap"]));
        Assert.True(e.LibraryMissing);
        Assert.Equal("tcp", e.Expression);
        Assert.StartsWith("BPF filtering needs libpcap", e.Message);
        Assert.Contains("libconntrack-no-such-pcap.so.9", e.Message);
        Assert.Contains("apt-get install libpcap0.8", e.Message);
        Assert.Contains("Npcap", e.Message);
    }

    [Fact]
    public void MatchingAllocatesNothing()
    {
        using var filter = new BpfFilter("tcp port 80 or udp port 53");
        var tcp = EthernetIpv4(6, 1000, 80);
        var udp = EthernetIpv4(17, 1000, 54);
        Match(filter, tcp, LinkType.Ethernet);
        Match(filter, udp, LinkType.Ethernet);

        int matched = 0;
        long allocated = AllocationMeter.FewestBytes(3, round =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                if (filter.Matches(new RawFrame(tcp, T + i, tcp.Length, LinkType.Ethernet, 0))) matched++;
                if (filter.Matches(new RawFrame(udp, T + i, udp.Length, LinkType.Ethernet, 0))) matched++;
            }
        });
        Assert.Equal(30_000, matched);
        Assert.Equal(0, allocated);
    }
}

using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Net;
using Xunit;
using static ConnTrack.Engine.Tests.Decoding.PacketBuilder;

namespace ConnTrack.Engine.Tests.Decoding;

public class LinkLayerTests
{
    private const string A = "172.16.0.5", B = "8.8.8.8";
    private readonly WeirdCounters _weirds = new();

    private static byte[] Udp4() => IPv4(A, B, 17, Udp(A, B, 33000, 53, Bytes(20)));

    private PacketSummary DecodeOk(byte[] frame, LinkType link)
    {
        var d = new PacketDecoder(true, _weirds);
        Assert.Equal(DecodeStatus.Ok, d.Decode(new RawFrame(frame, 5, frame.Length, link, 0), out var s));
        Assert.Equal(IPAddr128.Parse(A), s.Src);
        Assert.Equal(IPAddr128.Parse(B), s.Dst);
        Assert.Equal(17, s.Protocol);
        Assert.Equal(33000, s.SrcPort);
        Assert.Equal(53, s.DstPort);
        Assert.Equal(20, s.PayloadLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
        return s;
    }

    private DecodeStatus Status(byte[] frame, LinkType link) =>
        new PacketDecoder(true, _weirds).Decode(new RawFrame(frame, 5, frame.Length, link, 0), out _);

    [Fact]
    public void SingleVlan()
    {
        var s = DecodeOk(Ethernet(0x8100, Tag(0x2064, 0x0800, Udp4())), LinkType.Ethernet);   // PCP 1, VID 100
        Assert.Equal(100, s.Vlan);
        Assert.Equal(0, s.InnerVlan);
    }

    [Fact]
    public void QinQAndDeeper()
    {
        var s = DecodeOk(Ethernet(0x88A8, Tag(200, 0x8100, Tag(300, 0x0800, Udp4()))), LinkType.Ethernet);
        Assert.Equal(200, s.Vlan);
        Assert.Equal(300, s.InnerVlan);
        var t = DecodeOk(Ethernet(0x9100, Tag(1, 0x8100, Tag(2, 0x8100, Tag(3, 0x0800, Udp4())))), LinkType.Ethernet);
        Assert.Equal(1, t.Vlan);
        Assert.Equal(3, t.InnerVlan);
    }

    [Fact]
    public void MplsLabelStackAndMplsInVlan()
    {
        var labels = new byte[] { 0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40 };   // two labels, bottom-of-stack on the 2nd
        DecodeOk(Ethernet(0x8847, Concat(labels, Udp4())), LinkType.Ethernet);
        var s = DecodeOk(Ethernet(0x8100, Tag(42, 0x8847, Concat(labels, Udp4()))), LinkType.Ethernet);
        Assert.Equal(42, s.Vlan);
    }

    [Fact]
    public void PppoeSessionAndPppoeOverQinQ()
    {
        var pppoe = Concat(new byte[] { 0x11, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x21 }, Udp4());
        DecodeOk(Ethernet(0x8864, pppoe), LinkType.Ethernet);
        var s = DecodeOk(Ethernet(0x88A8, Tag(10, 0x8100, Tag(20, 0x8864, pppoe))), LinkType.Ethernet);
        Assert.Equal(10, s.Vlan);
        Assert.Equal(20, s.InnerVlan);
        var lcp = Concat(new byte[] { 0x11, 0x00, 0x12, 0x34, 0x00, 0x00, 0xC0, 0x21 }, Bytes(30));
        Assert.Equal(DecodeStatus.NotIp, Status(Ethernet(0x8864, lcp), LinkType.Ethernet));
    }

    [Fact]
    public void FabricPathAndVnTag()
    {
        var inner = Ethernet(0x0800, Udp4());
        DecodeOk(Concat(Macs, new byte[] { 0x89, 0x03, 0, 0 }, inner), LinkType.Ethernet);
        DecodeOk(Ethernet(0x8926, Concat(new byte[] { 0x80, 0x01, 0x00, 0x00, 0x08, 0x00 }, Udp4())), LinkType.Ethernet);
    }

    [Fact]
    public void SnapCarriesIp()
    {
        var llc = Concat(new byte[] { 0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00 }, Udp4());
        var frame = Concat(Macs, new byte[] { (byte)(llc.Length >> 8), (byte)llc.Length }, llc);
        DecodeOk(frame, LinkType.Ethernet);
    }

    [Fact]
    public void ArpIsNotIp()
    {
        Assert.Equal(DecodeStatus.NotIp, Status(Ethernet(0x0806, Bytes(28)), LinkType.Ethernet));
        Assert.Equal(0, _weirds.Total);
    }

    [Fact]
    public void LinuxCookedV1AndV2()
    {
        var sll = Concat(new byte[] { 0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00 }, Udp4());
        DecodeOk(sll, LinkType.LinuxSll);
        var sll2 = Concat(new byte[] { 0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0 }, Udp4());
        DecodeOk(sll2, LinkType.LinuxSll2);
    }

    [Fact]
    public void NullLoopRawAndPpp()
    {
        DecodeOk(Concat(new byte[] { 2, 0, 0, 0 }, Udp4()), LinkType.Null);
        DecodeOk(Concat(new byte[] { 0, 0, 0, 2 }, Udp4()), LinkType.Loop);
        DecodeOk(Udp4(), LinkType.Raw);
        DecodeOk(Udp4(), LinkType.Ipv4);
        DecodeOk(Concat(new byte[] { 0xFF, 0x03, 0x00, 0x21 }, Udp4()), LinkType.Ppp);
        DecodeOk(Concat(new byte[] { 0xFF, 0x03, 0x00, 0x21 }, Udp4()), LinkType.PppHdlc);
        Assert.Equal(DecodeStatus.NotIp, Status(Concat(new byte[] { 7, 0, 0, 0 }, Udp4()), LinkType.Null));
    }

    private static byte[] Wifi(byte fc0, byte fc1, byte[] body, bool qos = false, bool addr4 = false)
    {
        var hdr = new byte[24 + (addr4 ? 6 : 0) + (qos ? 2 : 0)];
        hdr[0] = fc0; hdr[1] = fc1;
        return Concat(hdr, body);
    }

    private static readonly byte[] Snap = { 0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00 };

    [Fact]
    public void Ieee80211DataFrames()
    {
        DecodeOk(Wifi(0x08, 0x01, Concat(Snap, Udp4())), LinkType.Ieee80211);                         // data, To DS
        DecodeOk(Wifi(0x88, 0x02, Concat(Snap, Udp4()), qos: true), LinkType.Ieee80211);              // QoS data
        DecodeOk(Wifi(0x88, 0x03, Concat(Snap, Udp4()), qos: true, addr4: true), LinkType.Ieee80211); // WDS, 4 addresses
        Assert.Equal(DecodeStatus.NotIp, Status(Wifi(0x80, 0x00, Bytes(60)), LinkType.Ieee80211));      // beacon
        Assert.Equal(DecodeStatus.NotIp, Status(Wifi(0x88, 0x41, Bytes(60), qos: true), LinkType.Ieee80211)); // protected
        Assert.Equal(DecodeStatus.NotIp, Status(Wifi(0x48, 0x01, Bytes(4)), LinkType.Ieee80211));       // null data
    }

    [Fact]
    public void RadiotapThen80211()
    {
        var rt = new byte[] { 0, 0, 12, 0, 0x04, 0, 0, 0, 0x02, 0, 0, 0 };   // version 0, length 12
        DecodeOk(Concat(rt, Wifi(0x08, 0x02, Concat(Snap, Udp4()))), LinkType.Ieee80211Radiotap);
        Assert.Equal(DecodeStatus.Dropped, Status(new byte[] { 0, 0, 40, 0, 0, 0 }, LinkType.Ieee80211Radiotap));
        Assert.Equal(1, _weirds["truncated_radiotap_header"]);
    }
}

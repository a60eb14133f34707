using System.Buffers.Binary;
using System.Net;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Net;
using Xunit;
using static ConnTrack.Engine.Tests.Decoding.PacketBuilder;

namespace ConnTrack.Engine.Tests.Decoding;

public class PacketDecoderTests
{
    private const string A = "10.0.0.1", B = "192.168.1.20";
    private const string A6 = "2001:db8::1", B6 = "2001:db8::2";

    private readonly WeirdCounters _weirds = new();
    private PacketDecoder NewDecoder(bool verify = true) => new(verify, _weirds);

    private static DecodeStatus Run(PacketDecoder d, byte[] data, LinkType link, out PacketSummary s, int? originalLength = null)
        => d.Decode(new RawFrame(data, 1_000_000_000L, originalLength ?? data.Length, link, 0), out s);

    private static byte[] TcpV4(byte flags = 0x18, byte[]? payload = null, byte[]? options = null, bool bad = false) =>
        IPv4(A, B, 6, Tcp(A, B, 40000, 80, 1000, 2000, flags, 8192, options, payload, bad));

    [Fact]
    public void EthernetTcpFieldsAndPayloadLength()
    {
        var d = NewDecoder();
        var frame = Ethernet(0x0800, TcpV4(0x18, Bytes(10)));
        Assert.Equal(DecodeStatus.Ok, Run(d, frame, LinkType.Ethernet, out var s));
        Assert.Equal(IPAddr128.Parse(A), s.Src);
        Assert.Equal(IPAddr128.Parse(B), s.Dst);
        Assert.Equal(6, s.Protocol);
        Assert.False(s.IsIPv6);
        Assert.Equal(40000, s.SrcPort);
        Assert.Equal(80, s.DstPort);
        Assert.Equal(1000u, s.Seq);
        Assert.Equal(2000u, s.Ack);
        Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, s.Flags);
        Assert.Equal(8192, s.Window);
        Assert.Equal(20, s.TransportHeaderLength);
        Assert.Equal(10, s.PayloadLength);
        Assert.Equal(10, s.CapturedPayloadLength);
        Assert.Equal(50, s.IpLength);
        Assert.Equal(-1, s.WindowScale);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
        Assert.Equal(1_000_000_000L, s.Timestamp);
        Assert.Equal(0, _weirds.Total);
    }

    [Fact]
    public void EthernetPaddingDoesNotCountAsPayload()
    {
        var d = NewDecoder();
        var frame = Ethernet(0x0800, TcpV4(0x10), padTo: 60);   // 54-byte frame padded to 60
        Assert.Equal(DecodeStatus.Ok, Run(d, frame, LinkType.Ethernet, out var s));
        Assert.Equal(0, s.PayloadLength);
        Assert.Equal(0, s.CapturedPayloadLength);
        Assert.Equal(40, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
    }

    [Fact]
    public void GoodChecksumAsPacketDotNetComputesIt()
    {
        var tcp = new PacketDotNet.TcpPacket(5555, 443) { SequenceNumber = 77, Synchronize = true, WindowSize = 1024 };
        tcp.PayloadData = new byte[] { 1, 2, 3, 4, 5 };
        var ip = new PacketDotNet.IPv4Packet(IPAddress.Parse(A), IPAddress.Parse(B)) { PayloadPacket = tcp };
        tcp.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        var eth = new PacketDotNet.EthernetPacket(
            System.Net.NetworkInformation.PhysicalAddress.Parse("00-01-02-03-04-05"),
            System.Net.NetworkInformation.PhysicalAddress.Parse("00-01-02-03-04-06"),
            PacketDotNet.EthernetType.IPv4) { PayloadPacket = ip };
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, eth.Bytes, LinkType.Ethernet, out var s));
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
        Assert.Equal(5555, s.SrcPort);
        Assert.Equal(443, s.DstPort);
        Assert.Equal(77u, s.Seq);
        Assert.Equal(5, s.PayloadLength);
        Assert.Equal(TcpFlags.Syn, s.Flags);
    }

    [Fact]
    public void BadTcpChecksumIsReportedNotDropped()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, TcpV4(0x18, Bytes(4), bad: true)), LinkType.Ethernet, out var s));
        Assert.Equal(ChecksumStatus.Bad, s.Checksum);
        Assert.Equal(1, _weirds["bad_TCP_checksum"]);
    }

    [Fact]
    public void ChecksumNotCheckedWhenIgnoredOrSegmentNotCapturedWhole()
    {
        var ignoring = NewDecoder(verify: false);
        Assert.Equal(DecodeStatus.Ok, Run(ignoring, Ethernet(0x0800, TcpV4(0x18, Bytes(4), bad: true)), LinkType.Ethernet, out var s1));
        Assert.Equal(ChecksumStatus.NotChecked, s1.Checksum);

        var d = NewDecoder();
        var full = Ethernet(0x0800, TcpV4(0x18, Bytes(100), bad: true));
        var cut = full.AsSpan(0, full.Length - 60).ToArray();   // snap length cut the payload
        Assert.Equal(DecodeStatus.Ok, Run(d, cut, LinkType.Ethernet, out var s2, originalLength: full.Length));
        Assert.Equal(ChecksumStatus.NotChecked, s2.Checksum);
        Assert.Equal(100, s2.PayloadLength);
        Assert.Equal(40, s2.CapturedPayloadLength);
        Assert.Equal(0, _weirds["bad_TCP_checksum"]);
    }

    [Fact]
    public void WindowScaleFromSynOptionsOnly()
    {
        // MSS 1460, NOP, WS 7, SACK permitted, NOP, NOP
        var opts = new byte[] { 2, 4, 0x05, 0xB4, 1, 3, 3, 7, 4, 2, 1, 1 };
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, TcpV4(0x02, options: opts)), LinkType.Ethernet, out var syn));
        Assert.Equal(7, syn.WindowScale);
        Assert.Equal(32, syn.TransportHeaderLength);
        Assert.Equal(0, syn.PayloadLength);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, TcpV4(0x10, options: opts)), LinkType.Ethernet, out var ack));
        Assert.Equal(-1, ack.WindowScale);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, TcpV4(0x12, options: new byte[] { 2, 4, 5, 0xB4 })), LinkType.Ethernet, out var synack));
        Assert.Equal(-1, synack.WindowScale);
    }

    [Fact]
    public void IPv4OptionsAreSkipped()
    {
        var opts = new byte[] { 0x94, 0x04, 0, 0, 1, 1, 1, 0 };   // router alert + NOPs + EOL
        var d = NewDecoder();
        var ip = IPv4(A, B, 17, Udp(A, B, 5353, 53, Bytes(12)), options: opts);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, ip), LinkType.Ethernet, out var s));
        Assert.Equal(17, s.Protocol);
        Assert.Equal(5353, s.SrcPort);
        Assert.Equal(53, s.DstPort);
        Assert.Equal(12, s.PayloadLength);
        Assert.Equal(20, s.UdpLength);
        Assert.Equal(48, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
    }

    [Fact]
    public void BadIPv4HeaderChecksumDrops()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x0800, IPv4(A, B, 17, Udp(A, B, 1, 2, Bytes(4)), badChecksum: true)), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["bad_IP_checksum"]);
        var ignoring = new PacketDecoder(false, new WeirdCounters());
        Assert.Equal(DecodeStatus.Ok, Run(ignoring, Ethernet(0x0800, IPv4(A, B, 17, Udp(A, B, 1, 2, Bytes(4)), badChecksum: true)), LinkType.Ethernet, out _));
    }

    [Fact]
    public void UdpZeroChecksumOverIPv4MeansNone()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, IPv4(A, B, 17, Udp(A, B, 1, 2, Bytes(4), zeroChecksum: true))), LinkType.Ethernet, out var s));
        Assert.Equal(ChecksumStatus.NotChecked, s.Checksum);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, IPv4(A, B, 17, Udp(A, B, 1, 2, Bytes(4), badChecksum: true))), LinkType.Ethernet, out var bad));
        Assert.Equal(ChecksumStatus.Bad, bad.Checksum);
        Assert.Equal(1, _weirds["bad_UDP_checksum"]);
    }

    [Fact]
    public void IcmpTypeAndCode()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, IPv4(A, B, 1, Icmp(3, 1, Bytes(28)))), LinkType.Ethernet, out var s));
        Assert.True(s.IsIcmp);
        Assert.Equal(3, s.SrcPort);
        Assert.Equal(1, s.DstPort);
        Assert.Equal(28, s.PayloadLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, IPv4(A, B, 1, Icmp(8, 0, Bytes(4), badChecksum: true))), LinkType.Ethernet, out var bad));
        Assert.Equal(ChecksumStatus.Bad, bad.Checksum);
        Assert.Equal(1, _weirds["bad_ICMP_checksum"]);
    }

    [Fact]
    public void Icmpv6WithPseudoHeaderChecksum()
    {
        var d = NewDecoder();
        var pkt = IPv6(A6, B6, 58, Icmp(128, 0, Bytes(16), A6, B6));
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x86DD, pkt), LinkType.Ethernet, out var s));
        Assert.True(s.IsIPv6);
        Assert.Equal(58, s.Protocol);
        Assert.Equal(128, s.SrcPort);
        Assert.Equal(0, s.DstPort);
        Assert.Equal(16, s.PayloadLength);
        Assert.Equal(64, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
        var bad = IPv6(A6, B6, 58, Icmp(128, 0, Bytes(16), A6, B6, badChecksum: true));
        Run(d, Ethernet(0x86DD, bad), LinkType.Ethernet, out var sb);
        Assert.Equal(ChecksumStatus.Bad, sb.Checksum);
    }

    [Fact]
    public void IPv6ExtensionHeadersAreWalked()
    {
        var d = NewDecoder();
        var hop = new byte[8];
        var dstopts = new byte[16]; dstopts[1] = 1;        // (1+1)*8 = 16 bytes
        var ah = new byte[24]; ah[1] = 4;                  // (4+2)*4 = 24 bytes
        var tcp = Tcp(A6, B6, 1234, 22, 5, 0, 0x02, 65535, payload: Bytes(3));
        var pkt = IPv6(A6, B6, 6, tcp, (0, hop), (60, dstopts), (51, ah));
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x86DD, pkt), LinkType.Ethernet, out var s));
        Assert.Equal(6, s.Protocol);
        Assert.Equal(IPAddr128.Parse(A6), s.Src);
        Assert.Equal(IPAddr128.Parse(B6), s.Dst);
        Assert.Equal(1234, s.SrcPort);
        Assert.Equal(22, s.DstPort);
        Assert.Equal(3, s.PayloadLength);
        Assert.Equal(40 + 8 + 16 + 24 + 23, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
    }

    [Fact]
    public void IPv6RoutingHeaderGivesFinalDestination()
    {
        const string Final = "2001:db8::99";
        var rh = new byte[24]; rh[1] = 2; rh[2] = 0; rh[3] = 1;   // type 0, one segment left, one address
        IPAddress.Parse(Final).GetAddressBytes().CopyTo(rh, 8);
        var pkt = IPv6(A6, B6, 17, Udp(A6, Final, 1000, 53, Bytes(8)), (43, rh));
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x86DD, pkt), LinkType.Ethernet, out var s));
        Assert.Equal(IPAddr128.Parse(Final), s.Dst);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
    }

    [Fact]
    public void IPv6NoNextHeaderAndEspAndMobility()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Dropped, Run(d, IPv6(A6, B6, 59, Array.Empty<byte>()), LinkType.Raw, out _));
        Assert.Equal(1, _weirds["ipv6_no_next"]);
        Assert.Equal(DecodeStatus.NotIp, Run(d, IPv6(A6, B6, 50, Bytes(32)), LinkType.Raw, out _));
        Assert.Equal(DecodeStatus.NotIp, Run(d, IPv4(A, B, 50, Bytes(32)), LinkType.Raw, out _));
    }

    [Fact]
    public void OtherProtocolsGetProtocolAndNoPorts()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, IPv4(A, B, 132, Bytes(40))), LinkType.Ethernet, out var s));
        Assert.Equal(132, s.Protocol);
        Assert.Equal(0, s.SrcPort);
        Assert.Equal(0, s.DstPort);
        Assert.Equal(40, s.PayloadLength);
        Assert.Equal(60, s.IpLength);
    }

    [Fact]
    public void Ipv4FragmentsOutOfOrderAreReassembled()
    {
        var d = NewDecoder();
        var payload = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var udp = Udp(A, B, 3000, 4000, payload);            // 108 bytes
        var f1 = IPv4(A, B, 17, udp[..48], id: 77, fragOffsetBytes: 0, mf: true);
        var f2 = IPv4(A, B, 17, udp[48..96], id: 77, fragOffsetBytes: 48, mf: true);
        var f3 = IPv4(A, B, 17, udp[96..], id: 77, fragOffsetBytes: 96, mf: false);
        Assert.Equal(DecodeStatus.FragmentHeld, Run(d, Ethernet(0x0800, f3), LinkType.Ethernet, out _));
        Assert.Equal(DecodeStatus.FragmentHeld, Run(d, Ethernet(0x0800, f1), LinkType.Ethernet, out _));
        Assert.Equal(1, d.PendingFragments);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, f2), LinkType.Ethernet, out var s));
        Assert.Equal(0, d.PendingFragments);
        Assert.Equal(3000, s.SrcPort);
        Assert.Equal(4000, s.DstPort);
        Assert.Equal(100, s.PayloadLength);
        Assert.Equal(128, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);   // checksum over the reassembled datagram
        Assert.Equal(0, _weirds["fragment_overlap"]);
    }

    [Fact]
    public void OverlappingFragmentsKeepFirstData()
    {
        var d = NewDecoder();
        var payload = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var udp = Udp(A, B, 3000, 4000, payload);            // 72 bytes
        var f1 = IPv4(A, B, 17, udp[..40], id: 9, mf: true);
        var overlapSame = IPv4(A, B, 17, udp[32..56], id: 9, fragOffsetBytes: 32, mf: true);
        var forged = udp[48..72].ToArray(); forged[0] ^= 0xFF;   // overlaps 48..56 with other bytes
        var tail = IPv4(A, B, 17, forged, id: 9, fragOffsetBytes: 48, mf: false);
        Assert.Equal(DecodeStatus.FragmentHeld, Run(d, Ethernet(0x0800, f1), LinkType.Ethernet, out _));
        Assert.Equal(DecodeStatus.FragmentHeld, Run(d, Ethernet(0x0800, overlapSame), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["fragment_overlap"]);
        Assert.Equal(DecodeStatus.Ok, Run(d, Ethernet(0x0800, tail), LinkType.Ethernet, out var s));
        Assert.Equal(1, _weirds["fragment_inconsistency"]);
        Assert.Equal(64, s.PayloadLength);
        Assert.Equal(92, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);   // the forged byte lost to the first copy
    }

    [Fact]
    public void IPv6FragmentsAreReassembled()
    {
        var d = NewDecoder();
        var tcp = Tcp(A6, B6, 80, 51000, 1, 1, 0x18, 100, payload: Bytes(60));   // 80 bytes
        var f1 = IPv6(A6, B6, 6, tcp[..40], (44, FragHeader(0, true, 0xABCDEF)));
        var f2 = IPv6(A6, B6, 6, tcp[40..], (44, FragHeader(40, false, 0xABCDEF)));
        Assert.Equal(DecodeStatus.FragmentHeld, Run(d, f2, LinkType.Ipv6, out _));
        Assert.Equal(DecodeStatus.Ok, Run(d, f1, LinkType.Ipv6, out var s));
        Assert.Equal(6, s.Protocol);
        Assert.Equal(80, s.SrcPort);
        Assert.Equal(60, s.PayloadLength);
        Assert.Equal(120, s.IpLength);
        Assert.Equal(ChecksumStatus.Good, s.Checksum);
    }

    [Fact]
    public void TruncatedHeadersAreCountedAndDropped()
    {
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x0800, Bytes(10, 0x45)), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["truncated_IP"]);

        var tcp = TcpV4(0x10);
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x0800, tcp[..30]), LinkType.Ethernet, out _, originalLength: 14 + 40));
        Assert.Equal(1, _weirds["internally_truncated_header"]);

        // IP total length larger than the packet was on the wire.
        var longer = IPv4(A, B, 17, Udp(A, B, 1, 2, Bytes(4)), totalLength: 200);
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x0800, longer), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["truncated_IP_len"]);

        // TCP data offset below 5 words.
        var badOff = TcpV4(0x10); badOff[32] = 0x40;
        Assert.Equal(DecodeStatus.Dropped, Run(new PacketDecoder(false, _weirds), Ethernet(0x0800, badOff), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["bad_TCP_header_len"]);

        // IP says 6 bytes of UDP: less than a UDP header.
        var shortUdp = IPv4(A, B, 17, Bytes(6));
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x0800, shortUdp), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["truncated_header"]);

        Assert.Equal(DecodeStatus.Dropped, Run(d, Bytes(10), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["truncated_ethernet_frame"]);
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x8100, new byte[] { 0, 5 }), LinkType.Ethernet, out _, 0));
    }

    [Fact]
    public void ZeroTotalLengthFromOffloadDependsOnChecksumChecking()
    {
        var pkt = IPv4(A, B, 6, Tcp(A, B, 1, 2, 0, 0, 0x10, 0, payload: Bytes(5)), totalLength: 0);
        var d = NewDecoder();
        Assert.Equal(DecodeStatus.Dropped, Run(d, Ethernet(0x0800, pkt), LinkType.Ethernet, out _));
        Assert.Equal(1, _weirds["ip_hdr_len_zero"]);
        var ignoring = new PacketDecoder(false, _weirds);
        Assert.Equal(DecodeStatus.Ok, Run(ignoring, Ethernet(0x0800, pkt), LinkType.Ethernet, out var s));
        // Processing takes the length from the capture, but ConnSize counts the header's own (zero) total
        // length, as Zeek's conn.log shows for offloaded segments (ldap sasl-signed-clear-2 in the corpus).
        Assert.Equal(0, s.IpLength);
        Assert.Equal(5, s.PayloadLength);
    }

    [Fact]
    public void DecodingDoesNotAllocate()
    {
        var d = NewDecoder();
        var frames = new[]
        {
            Ethernet(0x0800, TcpV4(0x02, options: new byte[] { 2, 4, 5, 0xB4, 1, 3, 3, 7 })),
            Ethernet(0x8100, Tag(10, 0x86DD, IPv6(A6, B6, 17, Udp(A6, B6, 1, 53, Bytes(30))))),
            Ethernet(0x0800, IPv4(A, B, 1, Icmp(8, 0, Bytes(56)))),
        };
        foreach (var f in frames) Run(d, f, LinkType.Ethernet, out _);   // warm up
        int ok = 0;
        long allocated = AllocationMeter.FewestBytes(3, round =>
        {
            for (int i = 0; i < 1000; i++)
                foreach (var f in frames)
                    if (Run(d, f, LinkType.Ethernet, out _) == DecodeStatus.Ok) ok++;
        });
        Assert.Equal(9000, ok);
        Assert.Equal(0, allocated);
    }
}

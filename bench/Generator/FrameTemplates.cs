using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;
using PacketDotNet.Utils;

namespace ConnTrack.Bench.Generator;

/// <summary>Which header template a frame starts from.</summary>
public enum TemplateKind
{
    Tcp = 0,
    /// <summary>TCP with 12 bytes of SYN options (MSS 1460, NOP, window scale 7, NOP, NOP, SACK permitted).</summary>
    TcpSyn = 1,
    Udp = 2,
    Icmp = 3,
}

/// <summary>
/// Ethernet + IP + transport header templates, built once with PacketDotNet. The generator copies a template
/// and patches addresses, ports, lengths, sequence numbers and checksums in place, which is orders of magnitude
/// faster than building every frame with PacketDotNet.
/// </summary>
public static class FrameTemplates
{
    public const int EthernetLength = 14;
    public const int Ipv4Length = 20;
    public const int Ipv6Length = 40;
    public const int TcpLength = 20;
    public const int SynOptionsLength = 12;
    public const int UdpLength = 8;
    public const int IcmpEchoLength = 8;

    private static readonly byte[][] s_templates = Build();

    /// <summary>The header bytes for (kind, IP version): Ethernet, IP and transport header, no payload.</summary>
    public static ReadOnlySpan<byte> Get(TemplateKind kind, bool ipv6) => s_templates[(int)kind * 2 + (ipv6 ? 1 : 0)];

    public static int L4Offset(bool ipv6) => EthernetLength + (ipv6 ? Ipv6Length : Ipv4Length);

    private static byte[][] Build()
    {
        var result = new byte[8][];
        foreach (TemplateKind kind in Enum.GetValues<TemplateKind>())
        {
            result[(int)kind * 2] = BuildOne(kind, ipv6: false);
            result[(int)kind * 2 + 1] = BuildOne(kind, ipv6: true);
        }
        return result;
    }

    private static byte[] BuildOne(TemplateKind kind, bool ipv6)
    {
        var eth = new EthernetPacket(
            PhysicalAddress.Parse("02-00-00-00-00-01"),
            PhysicalAddress.Parse("02-00-00-FF-FF-FE"),
            ipv6 ? EthernetType.IPv6 : EthernetType.IPv4);

        IPPacket ip = ipv6
            ? new IPv6Packet(IPAddress.Parse("fd00:1::1"), IPAddress.Parse("2001:db8::1"))
            : new IPv4Packet(IPAddress.Parse("10.1.0.1"), IPAddress.Parse("198.18.0.1"));
        ip.TimeToLive = 64;

        Packet l4;
        switch (kind)
        {
            case TemplateKind.Tcp:
            case TemplateKind.TcpSyn:
                var tcp = new TcpPacket(40000, 443) { WindowSize = 502 };
                if (kind == TemplateKind.TcpSyn)
                {
                    // Options ride as payload here; the data offset is fixed up below once the bytes exist.
                    tcp.PayloadData = [2, 4, 0x05, 0xB4, 1, 3, 3, 7, 1, 1, 4, 2];
                }
                l4 = tcp;
                ip.Protocol = ProtocolType.Tcp;
                break;
            case TemplateKind.Udp:
                l4 = new UdpPacket(40000, 53);
                ip.Protocol = ProtocolType.Udp;
                break;
            default:
                var icmpBytes = new byte[IcmpEchoLength];
                if (ipv6)
                {
                    icmpBytes[0] = 128;
                    l4 = new IcmpV6Packet(new ByteArraySegment(icmpBytes));
                    ip.Protocol = ProtocolType.IcmpV6;
                }
                else
                {
                    icmpBytes[0] = 8;
                    l4 = new IcmpV4Packet(new ByteArraySegment(icmpBytes));
                    ip.Protocol = ProtocolType.Icmp;
                }
                break;
        }

        ip.PayloadPacket = l4;
        eth.PayloadPacket = ip;
        if (ip is IPv4Packet v4)
        {
            v4.FragmentFlags = 0x2; // don't fragment
            v4.UpdateIPChecksum();
        }
        var bytes = eth.Bytes;
        if (kind == TemplateKind.TcpSyn)
            bytes[L4Offset(ipv6) + 12] = (TcpLength + SynOptionsLength) / 4 << 4;
        return bytes;
    }
}

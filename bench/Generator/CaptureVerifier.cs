using ConnTrack.Bench.Generator;
using PacketDotNet;

namespace ConnTrack.Bench.Generator;

/// <summary>
/// Checks generated frames with PacketDotNet (an independent parser): every header parses and every IPv4,
/// TCP, UDP and ICMP checksum is valid.
/// </summary>
public sealed class CaptureVerifier : IFrameSink
{
    public long Frames { get; private set; }
    public long Bad { get; private set; }
    public string? FirstProblem { get; private set; }
    public long Tcp, Udp, Icmp, Ipv6;

    public void Write(long timestampNs, ReadOnlySpan<byte> frame)
    {
        Frames++;
        string? problem = Check(frame.ToArray());
        if (problem is not null)
        {
            Bad++;
            FirstProblem ??= $"frame {Frames}: {problem}";
        }
    }

    private string? Check(byte[] bytes)
    {
        var packet = Packet.ParsePacket(LinkLayers.Ethernet, bytes);
        var ip = packet.Extract<IPPacket>();
        if (ip is null)
            return "no IP layer";
        if (ip is IPv4Packet v4)
        {
            if (!v4.ValidIPChecksum)
                return "bad IPv4 checksum";
            if (v4.TotalLength != bytes.Length - 14)
                return "IPv4 total length mismatch";
        }
        else
        {
            Ipv6++;
            if (((IPv6Packet)ip).PayloadLength != bytes.Length - 54)
                return "IPv6 payload length mismatch";
        }

        switch (ip.PayloadPacket)
        {
            case TcpPacket tcp:
                Tcp++;
                return tcp.ValidTcpChecksum ? null : "bad TCP checksum";
            case UdpPacket udp:
                Udp++;
                return udp.ValidUdpChecksum ? null : "bad UDP checksum";
            case IcmpV4Packet icmp4:
                Icmp++;
                return icmp4.ValidIcmpChecksum ? null : "bad ICMP checksum";
            case IcmpV6Packet icmp6:
                Icmp++;
                return icmp6.ValidIcmpChecksum ? null : "bad ICMPv6 checksum";
            default:
                return "unexpected transport";
        }
    }
}

using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Decoding;

/// <summary>TCP header flag bits as they sit in the flags byte.</summary>
[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>Whether the transport checksum was checked, and how it came out.</summary>
public enum ChecksumStatus : byte
{
    /// <summary>Not checked: checksums are ignored, or the packet was not captured whole.</summary>
    NotChecked = 0,
    Good = 1,
    Bad = 2,
}

/// <summary>
/// Everything the tracker takes from one decoded packet (Retina's L4Context): a plain value, no
/// references into the capture buffer, so it can be copied to another thread.
/// </summary>
public struct PacketSummary
{
    /// <summary>Packet time in nanoseconds since the Unix epoch.</summary>
    public long Timestamp;
    public IPAddr128 Src;
    public IPAddr128 Dst;
    /// <summary>TCP/UDP source port. For ICMP/ICMPv6: the message type.</summary>
    public ushort SrcPort;
    /// <summary>TCP/UDP destination port. For ICMP/ICMPv6: the message code.</summary>
    public ushort DstPort;
    /// <summary>The transport's IP protocol number (after IPv6 extension headers): 6, 17, 1, 58 or any other.</summary>
    public byte Protocol;
    public bool IsIPv6;
    /// <summary>IP-level bytes as Zeek counts them: IPv4 total length, IPv6 payload length + 40.</summary>
    public int IpLength;
    /// <summary>Transport payload length from the headers (IP length minus IP and transport headers).</summary>
    public int PayloadLength;
    /// <summary>How many of those payload bytes the capture holds (less when the snap length cut it).</summary>
    public int CapturedPayloadLength;
    /// <summary>Length of the transport header (TCP data offset * 4; 8 for UDP; 8 for ICMP).</summary>
    public int TransportHeaderLength;

    // TCP only.
    public uint Seq;
    public uint Ack;
    public TcpFlags Flags;
    public ushort Window;
    /// <summary>The window-scale shift from a SYN's options, or -1 when the packet carries none.</summary>
    public sbyte WindowScale;

    // UDP only.
    /// <summary>The UDP header's length field (header + data as the sender gave it); Zeek counts its bytes from this.</summary>
    public ushort UdpLength;

    /// <summary>Transport checksum outcome (TCP, UDP, ICMP, ICMPv6).</summary>
    public ChecksumStatus Checksum;

    /// <summary>Outer and inner 802.1Q VLAN ids (0 when absent), for a VLAN-aware connection key.</summary>
    public ushort Vlan;
    public ushort InnerVlan;
    /// <summary>Whether a tag gave <see cref="Vlan"/> / <see cref="InnerVlan"/> (a tag may carry id 0).</summary>
    public bool HasVlan;
    public bool HasInnerVlan;

    /// <summary>Ethernet source and destination MAC addresses (48 bits), when <see cref="HasMacs"/> (Zeek's l2_src/l2_dst).</summary>
    public ulong SrcMac;
    public ulong DstMac;
    public bool HasMacs;

    /// <summary>The PPPoE session id, when <see cref="HasPppoe"/>.</summary>
    public ushort PppoeSessionId;
    public bool HasPppoe;

    public readonly bool IsTcp => Protocol == 6;
    public readonly bool IsUdp => Protocol == 17;
    public readonly bool IsIcmp => Protocol == 1 || Protocol == 58;
}

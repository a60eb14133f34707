using System.Buffers.Binary;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Diagnostics;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Decoding;

/// <summary>
/// Walks the link-layer headers down to the IP header, as Zeek's packet analyzers do (Ethernet with
/// FabricPath, 802.1Q/802.1ad to any depth, MPLS, PPPoE, VN-Tag, SNAP; Null/Loop; Linux cooked v1/v2; PPP;
/// 802.11 and radiotap). Records VLAN ids in the summary. Stateless, no allocation.
/// </summary>
internal static class LinkLayerDecoder
{
    private const int EtherTypeIPv4 = 0x0800;
    private const int EtherTypeIPv6 = 0x86DD;
    private const int EtherTypeVlan = 0x8100;
    private const int EtherTypeQinQ = 0x88A8;
    private const int EtherTypeQinQOld = 0x9100;
    private const int EtherTypeMpls = 0x8847;
    private const int EtherTypeMplsMulticast = 0x8848;
    private const int EtherTypePppoeSession = 0x8864;
    private const int EtherTypeVnTag = 0x8926;
    private const int PppIPv4 = 0x0021;
    private const int PppIPv6 = 0x0057;

    /// <summary>
    /// Finds the IP header. On <see cref="DecodeStatus.Ok"/>, <paramref name="ipOffset"/> is where it starts in
    /// <paramref name="data"/>. Anything that is not IP gives NotIp; a truncated header counts a weird and gives Dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public static DecodeStatus Decode(LinkType linkType, ReadOnlySpan<byte> data, ref PacketSummary summary, WeirdCounters weirds, out int ipOffset)
    {
        ipOffset = 0;
        switch (linkType)
        {
            case LinkType.Ethernet:
                return Ethernet(data, 0, ref summary, weirds, ref ipOffset);
            case LinkType.Raw:
            case LinkType.Ipv4:
            case LinkType.Ipv6:
                return DecodeStatus.Ok;
            case LinkType.Null:
            case LinkType.Loop:
                {
                    if (data.Length <= 4) { weirds.Add("null_analyzer_failed"); return DecodeStatus.Dropped; }
                    uint family = linkType == LinkType.Null
                        ? BinaryPrimitives.ReadUInt32LittleEndian(data)
                        : BinaryPrimitives.ReadUInt32BigEndian(data);
                    // Null uses the capturing host's order; almost every such capture is little-endian, but accept
                    // a big-endian family too (a family value fits in one byte).
                    if (linkType == LinkType.Null && family > 0xFFFF)
                        family = BinaryPrimitives.ReadUInt32BigEndian(data);
                    ipOffset = 4;
                    return family switch
                    {
                        2 => DecodeStatus.Ok,                  // AF_INET
                        24 or 28 or 30 => DecodeStatus.Ok,     // AF_INET6 on the BSDs, FreeBSD/DragonFly, Darwin
                        _ => DecodeStatus.NotIp,
                    };
                }
            case LinkType.LinuxSll:
                {
                    if (data.Length <= 16) { weirds.Add("truncated_Linux_SLL_header"); return DecodeStatus.Dropped; }
                    return EtherType(BinaryPrimitives.ReadUInt16BigEndian(data.Slice(14)), data, 16, ref summary, weirds, ref ipOffset);
                }
            case LinkType.LinuxSll2:
                {
                    if (data.Length <= 20) { weirds.Add("truncated_Linux_SLL2_header"); return DecodeStatus.Dropped; }
                    return EtherType(BinaryPrimitives.ReadUInt16BigEndian(data), data, 20, ref summary, weirds, ref ipOffset);
                }
            case LinkType.Ppp:
            case LinkType.PppHdlc:
                {
                    int offset = 0;
                    if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0x03)
                        offset = 2;
                    if (data.Length <= offset + 2) { weirds.Add("truncated_ppp_serial_header"); return DecodeStatus.Dropped; }
                    return Ppp(BinaryPrimitives.ReadUInt16BigEndian(data.Slice(offset)), offset + 2, ref ipOffset);
                }
            case LinkType.Ieee80211:
                return Ieee80211(data, 0, ref summary, weirds, ref ipOffset);
            case LinkType.Ieee80211Radiotap:
                {
                    if (data.Length < 4) { weirds.Add("truncated_radiotap_header"); return DecodeStatus.Dropped; }
                    int itLen = BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(2));
                    if (data.Length < itLen) { weirds.Add("truncated_radiotap_header"); return DecodeStatus.Dropped; }
                    return Ieee80211(data, itLen, ref summary, weirds, ref ipOffset);
                }
            default:
                weirds.Add("unknown_link_type"); // e.g. a pcapng interface of a type we do not decode
                return DecodeStatus.NotIp;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private static DecodeStatus Ethernet(ReadOnlySpan<byte> data, int start, ref PacketSummary summary, WeirdCounters weirds, ref int ipOffset)
    {
        int len = data.Length - start;
        if (len <= 16) { weirds.Add("truncated_ethernet_frame"); return DecodeStatus.Dropped; }
        // Cisco FabricPath: a 16-byte outer header in front of the real Ethernet header.
        if (data[start + 12] == 0x89 && data[start + 13] == 0x03)
        {
            if (16 + 14 >= len) { weirds.Add("truncated_link_header_cfp"); return DecodeStatus.Dropped; }
            start += 16;
            len -= 16;
        }
        summary.DstMac = ReadMac(data.Slice(start));
        summary.SrcMac = ReadMac(data.Slice(start + 6));
        summary.HasMacs = true;
        int type = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 12));
        if (type >= 1536)
            return EtherType(type, data, start + 14, ref summary, weirds, ref ipOffset);
        if (type <= 1500)
        {
            start += 14;
            len -= 14;
            if (len < type) { weirds.Add("truncated_ethernet_frame"); return DecodeStatus.Dropped; }
            return Llc(data, start, ref summary, weirds, ref ipOffset);
        }
        weirds.Add("undefined_ether_type");
        return DecodeStatus.Dropped;
    }

    /// <summary>802.2 LLC: only SNAP carries an EtherType we can follow; plain LLC and Novell raw are not IP.</summary>
    private static DecodeStatus Llc(ReadOnlySpan<byte> data, int start, ref PacketSummary summary, WeirdCounters weirds, ref int ipOffset)
    {
        int len = data.Length - start;
        if (len >= 2 && data[start] == 0xAA && data[start + 1] == 0xAA)
        {
            if (len <= 8) { weirds.Add("truncated_snap_header"); return DecodeStatus.Dropped; }
            int type = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 6));
            return EtherType(type, data, start + 8, ref summary, weirds, ref ipOffset);
        }
        return DecodeStatus.NotIp;
    }

    /// <summary>Dispatches on an EtherType whose payload starts at <paramref name="start"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private static DecodeStatus EtherType(int type, ReadOnlySpan<byte> data, int start, ref PacketSummary summary, WeirdCounters weirds, ref int ipOffset)
    {
        // Iterative so that any depth of VLAN/VN-Tag nesting costs no stack.
        while (true)
        {
            int len = data.Length - start;
            switch (type)
            {
                case EtherTypeIPv4:
                case EtherTypeIPv6:
                    ipOffset = start;
                    return DecodeStatus.Ok;
                case EtherTypeVlan:
                case EtherTypeQinQ:
                case EtherTypeQinQOld:
                    {
                        if (len <= 4) { weirds.Add("truncated_VLAN_header"); return DecodeStatus.Dropped; }
                        ushort id = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start)) & 0x0FFF);
                        // As Zeek: the outer id until one is set, then the inner one (a later tag overwrites it).
                        if (summary.Vlan != 0) { summary.InnerVlan = id; summary.HasInnerVlan = true; } else { summary.Vlan = id; summary.HasVlan = true; }
                        type = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 2));
                        start += 4;
                        if (type <= 1500)
                            return Llc(data, start, ref summary, weirds, ref ipOffset);
                        continue;
                    }
                case EtherTypeVnTag:
                    {
                        if (len <= 6) { weirds.Add("truncated_vntag_header"); return DecodeStatus.Dropped; }
                        type = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 4));
                        start += 6;
                        continue;
                    }
                case EtherTypeMpls:
                case EtherTypeMplsMulticast:
                    return Mpls(data, start, weirds, ref ipOffset);
                case EtherTypePppoeSession:
                    {
                        if (len <= 8) { weirds.Add("truncated_pppoe_header"); return DecodeStatus.Dropped; }
                        summary.PppoeSessionId = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 2));
                        summary.HasPppoe = true;
                        return Ppp(BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 6)), start + 8, ref ipOffset);
                    }
                default:
                    return DecodeStatus.NotIp;   // ARP, LLDP, IPX...: nothing to track
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadMac(ReadOnlySpan<byte> six) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(six) << 32) | BinaryPrimitives.ReadUInt32BigEndian(six.Slice(2));

    private static DecodeStatus Ppp(int protocol, int start, ref int ipOffset)
    {
        if (protocol is PppIPv4 or PppIPv6)
        {
            ipOffset = start;
            return DecodeStatus.Ok;
        }
        return DecodeStatus.NotIp;
    }

    private static DecodeStatus Mpls(ReadOnlySpan<byte> data, int start, WeirdCounters weirds, ref int ipOffset)
    {
        bool bottom = false;
        while (!bottom)
        {
            if (data.Length - start <= 4) { weirds.Add("truncated_link_header"); return DecodeStatus.Dropped; }
            bottom = (data[start + 2] & 0x01) != 0;
            start += 4;
        }
        // The label stack does not say what it carries: the IP version nibble does.
        if (data.Length - start <= 20) { weirds.Add("no_ip_in_mpls_payload"); return DecodeStatus.Dropped; }
        int version = data[start] >> 4;
        if (version != 4 && version != 6) { weirds.Add("no_ip_in_mpls_payload"); return DecodeStatus.Dropped; }
        ipOffset = start;
        return DecodeStatus.Ok;
    }

    private static DecodeStatus Ieee80211(ReadOnlySpan<byte> data, int start, ref PacketSummary summary, WeirdCounters weirds, ref int ipOffset)
    {
        int len = data.Length - start;
        int hdr = 24;
        if (hdr >= len) { weirds.Add("truncated_802_11_header"); return DecodeStatus.Dropped; }
        byte fc = data[start];
        byte flags = data[start + 1];
        if (((fc >> 2) & 0x02) == 0) return DecodeStatus.NotIp;   // management or control frame
        if (((fc >> 4) & 0x04) != 0) return DecodeStatus.NotIp;   // data subtype without a body
        if ((flags & 0x03) == 0x03) hdr += 6;                      // address 4 (To DS and From DS)
        if (hdr >= len) { weirds.Add("truncated_802_11_header"); return DecodeStatus.Dropped; }
        // Source and destination stations by the DS bits (address 1/2/3/4 change meaning).
        var frame = data.Slice(start);
        switch (flags & 0x03)
        {
            case 0: summary.DstMac = ReadMac(frame.Slice(4)); summary.SrcMac = ReadMac(frame.Slice(10)); break;
            case 1: summary.SrcMac = ReadMac(frame.Slice(10)); summary.DstMac = ReadMac(frame.Slice(16)); break;
            case 2: summary.DstMac = ReadMac(frame.Slice(4)); summary.SrcMac = ReadMac(frame.Slice(16)); break;
            default: summary.DstMac = ReadMac(frame.Slice(16)); summary.SrcMac = ReadMac(frame.Slice(24)); break;
        }
        summary.HasMacs = true;
        bool amsdu = false;
        if (((fc >> 4) & 0x08) != 0)
        {
            amsdu = (data[start + hdr] & 0x80) != 0;
            if ((flags & 0x40) != 0) return DecodeStatus.NotIp;   // protected: encrypted, nothing to see
            hdr += 2;
        }
        if (hdr >= len) { weirds.Add("truncated_802_11_header"); return DecodeStatus.Dropped; }
        start += hdr;
        if (amsdu)
        {
            // Only the first A-MSDU subframe is decoded (a summary holds one packet).
            if (data.Length - start < 14) { weirds.Add("truncated_802_11_amsdu_header"); return DecodeStatus.Dropped; }
            int subLen = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 12));
            if (data.Length - start < subLen + 14) { weirds.Add("truncated_802_11_amsdu_packet"); return DecodeStatus.Dropped; }
            start += 14;
        }
        if (data.Length - start < 8) { weirds.Add("truncated_802_11_llc_header"); return DecodeStatus.Dropped; }
        if (data[start] == 0xAA && data[start + 1] == 0xAA && data[start + 2] == 0x03 &&
            data[start + 3] == 0 && data[start + 4] == 0 && data[start + 5] == 0)
            return EtherType(BinaryPrimitives.ReadUInt16BigEndian(data.Slice(start + 6)), data, start + 8, ref summary, weirds, ref ipOffset);
        return DecodeStatus.NotIp;
    }
}

using System.Buffers.Binary;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Net;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Decoding;

/// <summary>
/// Turns a captured frame into a <see cref="PacketSummary"/>: link layer, VLAN/MPLS/PPPoE, IPv4/IPv6 (with
/// fragment reassembly), then TCP/UDP/ICMP. Stateless but for the fragment reassembler; no allocation per packet.
/// The checks, their order and the weird names follow Zeek's packet analysis (IP.cc, IPBasedAnalyzer.cc,
/// TCP.cc, UDP.cc, ICMP.cc, Frag.cc).
/// </summary>
public sealed class PacketDecoder
{
    private const byte ProtoIcmp = 1;
    private const byte ProtoTcp = 6;
    private const byte ProtoUdp = 17;
    private const byte ProtoIcmpV6 = 58;
    private const byte ProtoEsp = 50;
    private const byte ProtoAh = 51;
    private const byte ProtoNoNext = 59;
    private const byte ProtoHopByHop = 0;
    private const byte ProtoRouting = 43;
    private const byte ProtoFragment = 44;
    private const byte ProtoDstOpts = 60;
    private const byte ProtoMobility = 135;
    private const ushort VxlanPort = 4789;

    private readonly FragmentReassembler _fragments;

    public PacketDecoder(bool verifyChecksums, WeirdCounters weirds)
    {
        VerifyChecksums = verifyChecksums;
        Weirds = weirds;
        _fragments = new FragmentReassembler(weirds);
    }

    public bool VerifyChecksums { get; }
    public WeirdCounters Weirds { get; }

    /// <summary>How long partial fragmented datagrams are kept (Zeek's frag_timeout; zero, the default, keeps them).</summary>
    public TimeSpan FragmentTimeout { get => _fragments.Timeout; set => _fragments.Timeout = value; }

    /// <summary>Partial fragmented datagrams held now.</summary>
    public int PendingFragments => _fragments.PendingCount;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public DecodeStatus Decode(in RawFrame frame, out PacketSummary summary)
    {
        summary = default;
        summary.Timestamp = frame.Timestamp;
        summary.WindowScale = -1;
        var data = frame.Data;
        var status = LinkLayerDecoder.Decode(frame.LinkType, data, ref summary, Weirds, out int ipOffset);
        if (status != DecodeStatus.Ok)
            return status;
        int wire = Math.Max(frame.OriginalLength, data.Length);
        return DecodeIp(data.Slice(ipOffset), wire - ipOffset, frame.OriginalLength <= data.Length, ref summary);
    }

    /// <summary>
    /// The IP layer on its own: decodes an IPv4/IPv6 packet and its transport into <paramref name="summary"/>
    /// (whose link-layer fields, time and VLANs the caller has set). <paramref name="packet"/> holds the captured
    /// bytes from the IP header on; <paramref name="wireLength"/> is how long it was on the wire;
    /// <paramref name="wholeFrameCaptured"/> is false when the snap length cut the frame. A tunnel decoder calls
    /// this again on the inner packet.
    /// </summary>
    public DecodeStatus DecodeIp(ReadOnlySpan<byte> packet, int wireLength, bool wholeFrameCaptured, ref PacketSummary summary)
        => DecodeIp(packet, wireLength, wholeFrameCaptured, reassembled: false, ref summary);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private DecodeStatus DecodeIp(ReadOnlySpan<byte> packet, int wireLength, bool wholeFrameCaptured, bool reassembled, ref PacketSummary summary)
    {
        int len = packet.Length;
        if (len < 20) return Drop("truncated_IP");

        int version = packet[0] >> 4;
        bool v6;
        int totalLen;
        if (version == 4)
        {
            v6 = false;
            totalLen = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(2));
        }
        else if (version == 6)
        {
            if (len < 40) return Drop("truncated_IP");
            v6 = true;
            totalLen = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4)) + 40;
        }
        else
            return Drop("unknown_ip_version");

        // ConnSize counts the header's own total length, even when it is zero and processing uses the capture.
        int headerTotalLen = totalLen;
        if (totalLen == 0)
        {
            // TCP segmentation offload can zero the length field; with checksums checked Zeek gives up here.
            Weirds.Add("ip_hdr_len_zero");
            if (VerifyChecksums) return DecodeStatus.Dropped;
            totalLen = len;
        }

        if (wireLength < totalLen) return Drop("truncated_IP_len");

        // Header length and the protocol it leads to (IPv6: walk the extension header chain within the capture).
        int hdrLen;
        byte nextProto;
        byte lastHeader;
        // The addresses go straight into the summary. A local copied there afterwards was read back with one 16-byte
        // load over its two 8-byte stores, which the CPU cannot forward: the load waits for every older store to reach
        // the cache, and in the parallel runner, which then decoded into its ring, those were stores to the ring's cold
        // lines (perf put a fifth of the reader thread's samples on that load; 2.6% after).
        ref var src = ref summary.Src;
        ref var dst = ref summary.Dst;
        int fragOffset = 0;
        bool moreFragments = false, dontFragment = false, hasFragHeader = false;
        uint fragId = 0;
        int fragNextHeaderOffset = -1;
        if (!v6)
        {
            hdrLen = (packet[0] & 0x0F) * 4;
            nextProto = lastHeader = packet[9];
            src = IPAddr128.FromIPv4Bytes(packet.Slice(12));
            dst = IPAddr128.FromIPv4Bytes(packet.Slice(16));
            ushort ff = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(6));
            if (!reassembled)
            {
                fragOffset = (ff & 0x1FFF) * 8;
                moreFragments = (ff & 0x2000) != 0;
            }
            dontFragment = (ff & 0x4000) != 0;
            fragId = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(4));
        }
        else
        {
            src = IPAddr128.FromIPv6Bytes(packet.Slice(8));
            dst = IPAddr128.FromIPv6Bytes(packet.Slice(24));
            hdrLen = 40;
            byte current;
            byte next = packet[6];
            int nextFieldOffset = 6;
            int remaining = len - 40;
            lastHeader = 41; // the IPv6 header itself
            while (IsIPv6ExtensionHeader(next))
            {
                if (remaining < 2) break;
                current = next;
                int at = hdrLen;
                int extLen = current switch
                {
                    ProtoFragment => 8,
                    ProtoAh => (packet[at + 1] + 2) * 4,
                    ProtoEsp => remaining,    // ESP: nothing after it can be read
                    _ => (packet[at + 1] + 1) * 8,
                };
                if (extLen > remaining) break;   // truncated: Zeek stops the chain before it
                next = current == ProtoEsp ? ProtoNoNext : packet[at];
                if (current == ProtoRouting && extLen >= 8)
                    FinalDestination(packet.Slice(at, extLen), ref dst);
                if (current == ProtoFragment)
                {
                    hasFragHeader = true;
                    ushort ff = BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(at + 2));
                    fragOffset = ff & 0xFFF8;
                    moreFragments = (ff & 0x0001) != 0;
                    fragId = BinaryPrimitives.ReadUInt32BigEndian(packet.Slice(at + 4));
                    fragNextHeaderOffset = nextFieldOffset;
                }
                lastHeader = current;
                nextFieldOffset = at;
                hdrLen += extLen;
                remaining -= extLen;
                if (current is ProtoFragment or ProtoEsp or ProtoMobility) break;
            }
            nextProto = next;
            if (!hasFragHeader || reassembled)
            {
                fragOffset = 0;
                moreFragments = false;
            }
        }

        if (hdrLen > totalLen) return Drop("invalid_IP_header_size");
        if (hdrLen > len) return Drop("internally_truncated_header");
        if (!v6 && hdrLen < 20) return Drop("IPv4_min_header_size");

        if (!v6 && !reassembled && VerifyChecksums && !Checksum.IsValid(packet.Slice(0, hdrLen)))
            return Drop("bad_IP_checksum");

        if (fragOffset != 0 || moreFragments)
        {
            if (len < totalLen)
            {
                // Not captured whole: reassembly is hopeless; only the first fragment is of use.
                Weirds.Add("incompletely_captured_fragment");
                if (fragOffset != 0) return DecodeStatus.Dropped;
            }
            else
            {
                var header = v6 ? packet.Slice(0, hdrLen - 8) : packet.Slice(0, hdrLen);
                var whole = _fragments.Add(summary.Timestamp, src, dst, fragId, v6, header, fragNextHeaderOffset,
                    nextProto, fragOffset, moreFragments, dontFragment, packet.Slice(hdrLen, totalLen - hdrLen));
                if (whole == null)
                    return DecodeStatus.FragmentHeld;
                return DecodeIp(whole, whole.Length, true, reassembled: true, ref summary);
            }
        }

        // ESP and mobility end the chain with nothing Zeek can track.
        if (lastHeader == ProtoEsp || (!v6 && nextProto == ProtoEsp)) return DecodeStatus.NotIp;
        if (lastHeader == ProtoMobility) return DecodeStatus.NotIp;

        if (nextProto == ProtoNoNext) return Drop("ipv6_no_next");

        summary.IsIPv6 = v6;
        summary.Protocol = nextProto;
        summary.IpLength = headerTotalLen;

        // What follows the IP header: its length by the headers, and what the capture holds (may include padding).
        int payloadLen = totalLen - hdrLen;
        var rest = packet.Slice(hdrLen);
        bool whole2 = wholeFrameCaptured;

        switch (nextProto)
        {
            case ProtoTcp: return Tcp(rest, payloadLen, v6, ref summary);
            case ProtoUdp: return Udp(rest, payloadLen, v6, whole2, ref summary);
            case ProtoIcmp:
            case ProtoIcmpV6: return Icmp(rest, payloadLen, v6, ref summary);
            default:
                summary.PayloadLength = payloadLen;
                summary.CapturedPayloadLength = Math.Min(payloadLen, rest.Length);
                return DecodeStatus.Ok;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private static bool IsIPv6ExtensionHeader(byte type) =>
        type is ProtoHopByHop or ProtoRouting or ProtoFragment or ProtoDstOpts or ProtoAh or ProtoEsp or ProtoMobility;

    /// <summary>A routing header with segments left names the final destination, which Zeek uses as the destination.</summary>
    private static void FinalDestination(ReadOnlySpan<byte> rh, ref IPAddr128 dst)
    {
        byte type = rh[2];
        byte segmentsLeft = rh[3];
        int addresses = rh[1] / 2;
        if (segmentsLeft == 0 || addresses == 0 || rh.Length < 8 + addresses * 16) return;
        if (type == 0)
            dst = IPAddr128.FromIPv6Bytes(rh.Slice(8 + (addresses - 1) * 16));
        else if (type == 2 && addresses == 1)
            dst = IPAddr128.FromIPv6Bytes(rh.Slice(8));
    }

    /// <summary>Zeek's CheckHeaderTrunc: the headers say too short, or the capture is.</summary>
    private bool HeaderTruncated(int minHeader, int payloadLen, int captured)
    {
        if (payloadLen != 0 && payloadLen < minHeader) { Weirds.Add("truncated_header"); return true; }
        if (captured < minHeader) { Weirds.Add("internally_truncated_header"); return true; }
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private DecodeStatus Tcp(ReadOnlySpan<byte> seg, int len, bool v6, ref PacketSummary summary)
    {
        int remaining = seg.Length;
        if (HeaderTruncated(20, len, remaining)) return DecodeStatus.Dropped;
        int hdr = (seg[12] >> 4) * 4;
        if (hdr < 20) return Drop("bad_TCP_header_len");
        if (hdr > len || hdr > remaining) return Drop("truncated_header");

        summary.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(seg);
        summary.DstPort = BinaryPrimitives.ReadUInt16BigEndian(seg.Slice(2));
        summary.Seq = BinaryPrimitives.ReadUInt32BigEndian(seg.Slice(4));
        summary.Ack = BinaryPrimitives.ReadUInt32BigEndian(seg.Slice(8));
        summary.Flags = (TcpFlags)seg[13];
        summary.Window = BinaryPrimitives.ReadUInt16BigEndian(seg.Slice(14));
        summary.TransportHeaderLength = hdr;
        summary.PayloadLength = len - hdr;
        summary.CapturedPayloadLength = Math.Min(len, remaining) - hdr;
        if ((summary.Flags & TcpFlags.Syn) != 0)
            summary.WindowScale = WindowScaleOption(seg.Slice(20, hdr - 20));

        // Checked only when the whole segment is captured, as Zeek does.
        if (VerifyChecksums && remaining >= len)
        {
            bool good = Checksum.IsValidWithPseudoHeader(summary.Src, summary.Dst, v6, ProtoTcp, seg.Slice(0, len));
            summary.Checksum = good ? ChecksumStatus.Good : ChecksumStatus.Bad;
            if (!good) Weirds.Add("bad_TCP_checksum");
        }
        return DecodeStatus.Ok;
    }

    /// <summary>The window-scale shift from SYN options, parsed as Zeek does; -1 when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private static sbyte WindowScaleOption(ReadOnlySpan<byte> options)
    {
        int scale = -1;
        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == 0) break;              // end of options
            if (kind == 1) { i++; continue; }  // no-op
            if (i + 1 >= options.Length) break;
            int optLen = options[i + 1];
            if (i + optLen > options.Length || optLen == 0) break;
            if (kind == 3 && optLen >= 3)
                scale = options[i + 2];
            i += optLen;
        }
        return (sbyte)Math.Min(scale, sbyte.MaxValue);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private DecodeStatus Udp(ReadOnlySpan<byte> seg, int len, bool v6, bool wholeFrameCaptured, ref PacketSummary summary)
    {
        int remaining = seg.Length;
        if (HeaderTruncated(8, len, remaining)) return DecodeStatus.Dropped;
        if (len == 0) len = remaining;   // segmentation offload: go by the capture

        summary.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(seg);
        summary.DstPort = BinaryPrimitives.ReadUInt16BigEndian(seg.Slice(2));
        summary.UdpLength = BinaryPrimitives.ReadUInt16BigEndian(seg.Slice(4));
        ushort sum = BinaryPrimitives.ReadUInt16BigEndian(seg.Slice(6));
        summary.TransportHeaderLength = 8;
        summary.PayloadLength = len - 8;
        summary.CapturedPayloadLength = Math.Min(len, remaining) - 8;

        bool validate = VerifyChecksums && remaining >= len && wholeFrameCaptured;
        // VXLAN on its port may send a zero checksum even over IPv6.
        if (validate && sum == 0 && len > 8 + 8 + 14 && (seg[8] & 0x08) == 0x08 && summary.DstPort == VxlanPort)
            validate = false;
        if (validate && (v6 || sum != 0))
        {
            bool good = Checksum.IsValidWithPseudoHeader(summary.Src, summary.Dst, v6, ProtoUdp, seg.Slice(0, len));
            summary.Checksum = good ? ChecksumStatus.Good : ChecksumStatus.Bad;
            if (!good) Weirds.Add("bad_UDP_checksum");
        }
        return DecodeStatus.Ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private DecodeStatus Icmp(ReadOnlySpan<byte> seg, int len, bool v6, ref PacketSummary summary)
    {
        int remaining = seg.Length;
        if (HeaderTruncated(8, len, remaining)) return DecodeStatus.Dropped;
        if (len == 0) len = remaining;

        summary.SrcPort = seg[0];   // type
        summary.DstPort = seg[1];   // code
        summary.TransportHeaderLength = 8;
        summary.PayloadLength = len - 8;
        summary.CapturedPayloadLength = Math.Min(len, remaining) - 8;

        if (VerifyChecksums && remaining >= len)
        {
            bool good = summary.Protocol == ProtoIcmpV6
                ? Checksum.IsValidWithPseudoHeader(summary.Src, summary.Dst, true, ProtoIcmpV6, seg.Slice(0, len))
                : Checksum.IsValid(seg.Slice(0, len));
            summary.Checksum = good ? ChecksumStatus.Good : ChecksumStatus.Bad;
            if (!good) Weirds.Add("bad_ICMP_checksum");
        }
        return DecodeStatus.Ok;
    }

    private DecodeStatus Drop(string weird)
    {
        Weirds.Add(weird);
        return DecodeStatus.Dropped;
    }
}

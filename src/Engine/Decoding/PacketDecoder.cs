using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Diagnostics;

namespace ConnTrack.Engine.Decoding;

/// <summary>
/// Turns a captured frame into a <see cref="PacketSummary"/>: link layer, VLAN/MPLS/PPPoE, IPv4/IPv6 (with
/// fragment reassembly), then TCP/UDP/ICMP. Stateless but for the fragment reassembler; no allocation per packet.
/// </summary>
public sealed class PacketDecoder
{
    public PacketDecoder(bool verifyChecksums, WeirdCounters weirds)
    {
        VerifyChecksums = verifyChecksums;
        Weirds = weirds;
    }

    public bool VerifyChecksums { get; }
    public WeirdCounters Weirds { get; }

    public DecodeStatus Decode(in RawFrame frame, out PacketSummary summary) => throw new NotImplementedException("decoder: see issue 2");
}

using System.Runtime.CompilerServices;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The connection table key: the two (address, port) endpoints in canonical order (lower first, as Zeek's
/// IPBasedConnKey orders them), the IP protocol, and optionally the VLAN ids. Both directions of a flow map
/// to the same key. One-way ICMP messages keep their direction (Zeek does not canonicalise those).
/// </summary>
public readonly struct FlowKey : IEquatable<FlowKey>
{
    public readonly IPAddr128 AddrA;
    public readonly IPAddr128 AddrB;
    public readonly ushort PortA;
    public readonly ushort PortB;
    public readonly byte Protocol;
    public readonly ushort Vlan;
    public readonly ushort InnerVlan;

    private FlowKey(IPAddr128 a, ushort pa, IPAddr128 b, ushort pb, byte protocol, ushort vlan, ushort innerVlan)
    {
        AddrA = a; PortA = pa; AddrB = b; PortB = pb; Protocol = protocol; Vlan = vlan; InnerVlan = innerVlan;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FlowKey Create(IPAddr128 src, ushort srcPort, IPAddr128 dst, ushort dstPort, byte protocol,
                                 bool canonical, ushort vlan = 0, ushort innerVlan = 0)
    {
        if (canonical && (dst < src || (dst == src && dstPort < srcPort)))
            return new FlowKey(dst, dstPort, src, srcPort, protocol, vlan, innerVlan);
        return new FlowKey(src, srcPort, dst, dstPort, protocol, vlan, innerVlan);
    }

    public bool Equals(FlowKey o) =>
        AddrA.Equals(o.AddrA) && AddrB.Equals(o.AddrB) && PortA == o.PortA && PortB == o.PortB &&
        Protocol == o.Protocol && Vlan == o.Vlan && InnerVlan == o.InnerVlan;

    public override bool Equals(object? obj) => obj is FlowKey k && Equals(k);

    // Symmetric by construction (the key is canonical), which the parallel mode's sharding relies on too.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int GetHashCode()
    {
        ulong h = AddrA.Lo * 0x9E3779B97F4A7C15UL ^ AddrB.Lo * 0xC2B2AE3D27D4EB4FUL ^ AddrA.Hi ^ (AddrB.Hi << 1);
        h ^= ((ulong)PortA << 16 | PortB) * 0x165667B19E3779F9UL ^ ((ulong)Protocol << 40) ^ ((ulong)Vlan << 48) ^ InnerVlan;
        return (int)(h ^ (h >> 29) ^ (h >> 47));
    }
}

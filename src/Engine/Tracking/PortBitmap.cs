using System.Runtime.CompilerServices;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// A set of port numbers as 65,536 bits (8 KiB), for the lookups a new connection makes (likely server ports,
/// the DNS analyzer's ports, ports with their own inactivity timeout): one load and a mask, where the options'
/// HashSet and Dictionary hash a <see cref="PortSpec"/> through generic comparers that the runtime compiles
/// in tiers. Made from the options when a tracker is made, so it holds the options as they were then.
/// </summary>
internal sealed class PortBitmap
{
    private readonly ulong[] _bits = new ulong[65536 / 64];

    public PortBitmap(IEnumerable<ushort> ports)
    {
        foreach (var port in ports)
            _bits[port >> 6] |= 1UL << (port & 63);
    }

    /// <summary>The ports of <paramref name="specs"/> of protocol <paramref name="proto"/>.</summary>
    public static PortBitmap Of(IEnumerable<PortSpec> specs, TransportProto proto)
    {
        var set = new PortBitmap([]);
        foreach (var spec in specs)
            if (spec.Proto == proto)
                set._bits[spec.Port >> 6] |= 1UL << (spec.Port & 63);
        return set;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ushort port) => (_bits[port >> 6] & (1UL << (port & 63))) != 0;
}

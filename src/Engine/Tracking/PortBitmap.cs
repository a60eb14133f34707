using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// A set of port numbers as 65,536 bits (8 KiB), for the lookups a new connection makes (likely server ports,
/// the DNS analyzer's ports, ports with their own inactivity timeout): one load and a mask, where the options'
/// HashSet and Dictionary hash a <see cref="Config.PortSpec"/> through generic comparers that the runtime compiles
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ushort port) => (_bits[port >> 6] & (1UL << (port & 63))) != 0;
}

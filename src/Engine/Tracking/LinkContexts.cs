using System.Runtime.CompilerServices;
namespace ConnTrack.Engine.Tracking;

/// <summary>
/// What a connection records of its first packet's link layer: the MAC addresses (Zeek's orig_l2_addr and
/// resp_l2_addr), the VLAN ids (c$vlan, c$inner_vlan) and the PPPoE session id. Ids are stored plus one
/// (0: none).
/// </summary>
internal readonly record struct LinkContext(ulong OrigL2, ulong RespL2, bool HasL2, ushort VlanPlus1, ushort InnerVlanPlus1, uint PppoePlus1)
{
    public ushort? Vlan => VlanPlus1 == 0 ? null : (ushort)(VlanPlus1 - 1);
    public ushort? InnerVlan => InnerVlanPlus1 == 0 ? null : (ushort)(InnerVlanPlus1 - 1);
    public ushort? PppoeSessionId => PppoePlus1 == 0 ? null : (ushort)(PppoePlus1 - 1);

    /// <summary>The same context seen from the other side (the addresses swapped).</summary>
    public LinkContext Swapped => this with { OrigL2 = RespL2, RespL2 = OrigL2 };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public bool Equals(LinkContext other) =>
        OrigL2 == other.OrigL2 && RespL2 == other.RespL2 && HasL2 == other.HasL2 &&
        VlanPlus1 == other.VlanPlus1 && InnerVlanPlus1 == other.InnerVlanPlus1 && PppoePlus1 == other.PppoePlus1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public override int GetHashCode()
    {
        ulong h = OrigL2 * 0x9E3779B97F4A7C15UL ^ RespL2 * 0xC2B2AE3D27D4EB4FUL ^
                  (((ulong)VlanPlus1 << 48) | ((ulong)InnerVlanPlus1 << 32) | PppoePlus1) * 0x165667B19E3779F9UL ^ (HasL2 ? 1UL : 0UL);
        return (int)(h ^ (h >> 29) ^ (h >> 47));
    }
}

/// <summary>
/// The distinct link contexts of the open connections' first packets, each held once with a count of the
/// connections using it (a <see cref="CountedInterner{T}"/>): a connection stores a 16-bit id (a capture point sees
/// few distinct MAC pairs, VLANs and PPPoE sessions at once). Id 0 is "none" (no MACs, no tags). When 65,534
/// distinct contexts are in use at once, further ones go to the connection's cold part (<see cref="InCold"/>), so
/// memory stays bounded whatever the traffic.
/// </summary>
internal sealed class LinkContexts
{
    /// <summary>The id that says the context is in the connection's rare part (<see cref="ConnRare.Link"/>).</summary>
    public const ushort InCold = ushort.MaxValue;

    private readonly CountedInterner<LinkContext> _contexts;
    private ushort _lastId; // the id the last lookup gave: a run of packets from one link context skips the hash

    public LinkContexts(int capacity = InCold - 1) => _contexts = new CountedInterner<LinkContext>(capacity);

    /// <summary>Distinct contexts in use.</summary>
    public int Count => _contexts.Count;

    /// <summary>
    /// The id of <paramref name="context"/>, counted as one more use (to be given back with <see cref="Release"/>),
    /// or <see cref="InCold"/> when it is new and the table is full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public ushort Acquire(in LinkContext context)
    {
        if (context == default)
            return 0;
        // The last id still holds the context unless it was dropped since (a dropped id holds the default).
        if (_lastId != 0 && _contexts[_lastId] == context)
        {
            _contexts.AddUse(_lastId);
            return _lastId;
        }
        int id = _contexts.Acquire(context);
        if (id == 0)
            return InCold;
        _lastId = (ushort)id;
        return _lastId;
    }

    /// <summary>One use of <paramref name="id"/> fewer (0 and <see cref="InCold"/> are not counted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public void Release(ushort id)
    {
        if (id == 0 || id == InCold)
            return;
        _contexts.Release(id);
    }

    public LinkContext this[ushort id] => _contexts[id];
}

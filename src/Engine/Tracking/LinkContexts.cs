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
}

/// <summary>
/// The distinct link contexts of the open connections' first packets, each held once: a connection stores a
/// 16-bit id (a capture point sees few distinct MAC pairs, VLANs and PPPoE sessions). Id 0 is "none" (no MACs,
/// no tags). When the table is full (65,534 contexts), further contexts go to the connection's cold part
/// (<see cref="InCold"/>), so memory stays bounded whatever the traffic. Entries are never removed: the table is
/// bounded by its capacity.
/// </summary>
internal sealed class LinkContexts
{
    /// <summary>The id that says the context is in the connection's <see cref="ConnCold.Link"/>.</summary>
    public const ushort InCold = ushort.MaxValue;

    private readonly Dictionary<LinkContext, ushort> _ids = new();
    private readonly List<LinkContext> _contexts = [default];
    private LinkContext _last;
    private ushort _lastId;
    private readonly int _capacity;

    public LinkContexts(int capacity = InCold - 1) => _capacity = capacity;

    public int Count => _contexts.Count - 1;

    /// <summary>The id of <paramref name="context"/>, or <see cref="InCold"/> when it is new and the table is full.</summary>
    public ushort IdOf(in LinkContext context)
    {
        if (context == default)
            return 0;
        if (_lastId != 0 && context == _last)
            return _lastId;
        if (!_ids.TryGetValue(context, out ushort id))
        {
            if (_contexts.Count > _capacity)
                return InCold;
            id = (ushort)_contexts.Count;
            _contexts.Add(context);
            _ids.Add(context, id);
        }
        _last = context;
        _lastId = id;
        return id;
    }

    public LinkContext this[ushort id] => _contexts[id];
}

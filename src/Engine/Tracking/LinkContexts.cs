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

    public bool Equals(LinkContext other) =>
        OrigL2 == other.OrigL2 && RespL2 == other.RespL2 && HasL2 == other.HasL2 &&
        VlanPlus1 == other.VlanPlus1 && InnerVlanPlus1 == other.InnerVlanPlus1 && PppoePlus1 == other.PppoePlus1;

    public override int GetHashCode()
    {
        ulong h = OrigL2 * 0x9E3779B97F4A7C15UL ^ RespL2 * 0xC2B2AE3D27D4EB4FUL ^
                  (((ulong)VlanPlus1 << 48) | ((ulong)InnerVlanPlus1 << 32) | PppoePlus1) * 0x165667B19E3779F9UL ^ (HasL2 ? 1UL : 0UL);
        return (int)(h ^ (h >> 29) ^ (h >> 47));
    }
}

/// <summary>
/// The distinct link contexts of the open connections' first packets, each held once with a count of the
/// connections using it: a connection stores a 16-bit id (a capture point sees few distinct MAC pairs, VLANs and
/// PPPoE sessions at once). Id 0 is "none" (no MACs, no tags). A context no open connection uses stays (a host's
/// next connection finds it again) until the table is full; then the unused ones are dropped at once and their
/// ids reused. When 65,534 distinct contexts are in use at once, further ones go to the connection's cold part
/// (<see cref="InCold"/>), so memory stays bounded whatever the traffic. Open addressing over the ids, one
/// array of (context, uses) by id: a lookup touches two arrays.
/// </summary>
internal sealed class LinkContexts
{
    /// <summary>The id that says the context is in the connection's rare part (<see cref="ConnRare.Link"/>).</summary>
    public const ushort InCold = ushort.MaxValue;

    private struct Entry
    {
        public LinkContext Context;
        public int Uses;
    }

    private Entry[] _entries = new Entry[16]; // by id; id 0 is "none"
    private int _ids = 1;                     // ids handed out (0 included), in use or not
    private ushort[] _free = new ushort[8];   // ids below _ids not in the index
    private int _freeCount;
    private ushort[] _index = new ushort[32]; // open addressing: 0 empty, else an id
    private int _inIndex;                     // ids in the index (in use or kept)
    private int _inUse;                       // ids with uses
    private LinkContext _last;
    private ushort _lastId;
    private readonly int _capacity;

    public LinkContexts(int capacity = InCold - 1) => _capacity = capacity;

    /// <summary>Distinct contexts in use.</summary>
    public int Count => _inUse;

    /// <summary>
    /// The id of <paramref name="context"/>, counted as one more use (to be given back with <see cref="Release"/>),
    /// or <see cref="InCold"/> when it is new and the table is full.
    /// </summary>
    public ushort Acquire(in LinkContext context)
    {
        if (context == default)
            return 0;
        ushort id;
        if (_lastId != 0 && context == _last)
            id = _lastId;
        else
        {
            int mask = _index.Length - 1;
            int i = context.GetHashCode() & mask;
            while (true)
            {
                id = _index[i];
                if (id == 0 || _entries[id].Context == context)
                    break;
                i = (i + 1) & mask;
            }
            if (id == 0)
            {
                if (_inIndex >= _capacity)
                {
                    // Full: drop the contexts no connection uses, if that frees a useful share of the table.
                    if (_inIndex - _inUse < Math.Max(1, _capacity / 8))
                        return InCold;
                    DropUnused();
                    return Acquire(context);
                }
                id = NewId();
                _entries[id].Context = context;
                _index[i] = id;
                if (++_inIndex * 2 > _index.Length)
                    Rebuild(_index.Length * 2);
            }
        }
        if (_entries[id].Uses++ == 0)
            _inUse++;
        _last = context;
        _lastId = id;
        return id;
    }

    /// <summary>One use of <paramref name="id"/> fewer (0 and <see cref="InCold"/> are not counted).</summary>
    public void Release(ushort id)
    {
        if (id == 0 || id == InCold)
            return;
        if (--_entries[id].Uses == 0)
            _inUse--;
    }

    public LinkContext this[ushort id] => _entries[id].Context;

    private ushort NewId()
    {
        if (_freeCount > 0)
            return _free[--_freeCount];
        if (_ids == _entries.Length)
            Array.Resize(ref _entries, _entries.Length * 2);
        return (ushort)_ids++;
    }

    private void DropUnused()
    {
        for (int id = 1; id < _ids; id++)
        {
            ref var e = ref _entries[id];
            if (e.Uses == 0 && e.Context != default)
            {
                e.Context = default;
                if (_freeCount == _free.Length)
                    Array.Resize(ref _free, _free.Length * 2);
                _free[_freeCount++] = (ushort)id;
                _inIndex--;
            }
        }
        _lastId = 0;
        Rebuild(_index.Length);
    }

    /// <summary>Rebuilds the index at <paramref name="size"/> slots from the entries kept.</summary>
    private void Rebuild(int size)
    {
        _index = new ushort[size];
        int mask = size - 1;
        for (int id = 1; id < _ids; id++)
        {
            if (_entries[id].Context == default)
                continue;
            int i = _entries[id].Context.GetHashCode() & mask;
            while (_index[i] != 0)
                i = (i + 1) & mask;
            _index[i] = (ushort)id;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The connections by key: open addressing with linear probing over a power-of-two array of 8-byte entries (the
/// key's hash and the connection's slab slot plus one); a probe compares hashes first, reading a connection's key
/// in the slab only on a hash match. The key lives in the slab, not twice. Removal shifts the following run back
/// (no tombstones), so lookups stay short however many connections come and go.
/// </summary>
internal sealed class ConnectionTable
{
    private const int MinCapacity = 16;

    private struct Entry
    {
        public int Hash;
        public int SlotPlus1; // 0: empty
    }

    private readonly ConnectionSlab _slab;
    private readonly Ipv6AddrStore _v6;
    private readonly LinkContexts? _vlanLinks; // set when the key is VLAN-aware
    private Entry[] _entries = new Entry[MinCapacity];
    private int _mask = MinCapacity - 1;
    private int _shift = 32 - 4; // 32 - log2(capacity)
    private int _count;

    /// <param name="vlanLinks">The link contexts, when the key is VLAN-aware (its ids are in the connections' link contexts).</param>
    public ConnectionTable(ConnectionSlab slab, Ipv6AddrStore v6, LinkContexts? vlanLinks = null)
    {
        _slab = slab;
        _v6 = v6;
        _vlanLinks = vlanLinks;
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(int hash) => (int)((uint)hash * 0x9E3779B1u >> _shift); // Fibonacci hashing: the top bits

    /// <summary>Starts loading the table entry where a key of hash <paramref name="hash"/> is looked for first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchHome(int hash)
    {
        if (Sse.IsSupported)
            Sse.Prefetch0(Unsafe.AsPointer(ref _entries[Home(hash)]));
    }

    /// <summary>
    /// The slot of the first connection whose key has hash <paramref name="hash"/>, or -1: the connection under
    /// the key unless two keys share the hash. Reads only the table, not the connections (a caller checks the key
    /// later, once the connection's entry has been brought into the cache).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public int CandidateSlot(int hash)
    {
        var entries = _entries;
        int mask = _mask;
        int i = Home(hash);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.SlotPlus1 == 0)
                return -1;
            if (e.Hash == hash)
                return e.SlotPlus1 - 1;
            i = (i + 1) & mask;
        }
    }

    /// <summary>The slot of the connection under <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public int Find(in FlowKey key) => Find(key, key.GetHashCode(), out _);

    /// <summary>
    /// The slot of the connection under <paramref name="key"/> (hash <paramref name="hash"/>), or -1;
    /// <paramref name="position"/> is where it is in the table, or where it would be inserted (for <see cref="Insert"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public int Find(in FlowKey key, int hash, out int position)
    {
        var entries = _entries;
        int mask = _mask;
        int i = Home(hash);
        while (true)
        {
            ref var e = ref entries[i];
            int s = e.SlotPlus1;
            if (s == 0)
            {
                position = i;
                return -1;
            }
            if (e.Hash == hash && _slab[s - 1].KeyEquals(key, _v6) && (_vlanLinks is null || _slab[s - 1].KeyVlansEqual(key, _vlanLinks)))
            {
                position = i;
                return s - 1;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Adds the connection in <paramref name="slot"/> at <paramref name="position"/>, the empty one <see cref="Find(in FlowKey, int, out int)"/> gave for its key.</summary>
    public void Insert(int position, int slot, int hash)
    {
        _entries[position] = new Entry { Hash = hash, SlotPlus1 = slot + 1 };
        // Keep the load at most 1/2: probes stay short.
        if (++_count * 2 > _entries.Length)
            Grow();
    }

    /// <summary>Puts <paramref name="next"/> at <paramref name="position"/>, where <paramref name="current"/> is (same key).</summary>
    public void Replace(int position, int current, int next)
    {
        if (_entries[position].SlotPlus1 != current + 1)
            throw new InvalidOperationException("The position does not hold the connection replaced.");
        _entries[position].SlotPlus1 = next + 1;
    }

    /// <summary>Removes the connection in <paramref name="slot"/> if it is the table's connection for its key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public bool Remove(int slot)
    {
        var key = _slab[slot].ToFlowKey(_v6, _vlanLinks);
        int hash = key.GetHashCode();
        if (Find(key, hash, out int hole) != slot)
            return false;
        var entries = _entries;
        int mask = _mask;
        entries[hole] = default;
        _count--;
        // Backward shift: move later entries of the run into the hole when their home allows it.
        int j = hole;
        while (true)
        {
            j = (j + 1) & mask;
            var moved = entries[j];
            if (moved.SlotPlus1 == 0)
                break;
            int home = Home(moved.Hash);
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                entries[hole] = moved;
                entries[j] = default;
                hole = j;
            }
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs over every open connection at once: never tiered (see ConnTracker.Process)
    private void Grow()
    {
        var old = _entries;
        _entries = new Entry[old.Length * 2];
        _mask = _entries.Length - 1;
        _shift--;
        for (int k = 0; k < old.Length; k++)
        {
            if (old[k].SlotPlus1 == 0)
                continue;
            int i = Home(old[k].Hash);
            while (_entries[i].SlotPlus1 != 0)
                i = (i + 1) & _mask;
            _entries[i] = old[k];
        }
    }

    /// <summary>Adds every connection's slot to <paramref name="into"/> (in table order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs over every open connection at once: never tiered (see ConnTracker.Process)
    public void CopyTo(List<int> into)
    {
        foreach (var e in _entries)
            if (e.SlotPlus1 != 0)
                into.Add(e.SlotPlus1 - 1);
    }

    public void Clear()
    {
        _entries = new Entry[MinCapacity];
        _mask = MinCapacity - 1;
        _shift = 32 - 4;
        _count = 0;
    }
}

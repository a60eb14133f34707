using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The connections by key: open addressing with linear probing over a power-of-two array of connection
/// references, with each slot's hash beside it (a probe compares hashes first, touching a connection only on a
/// hash match). The key is the connection's own (<see cref="Connection.Key"/>), so it is not stored twice as it
/// is in a Dictionary entry: 12 bytes a slot instead of ~70 bytes an entry. Removal shifts the following run
/// back (no tombstones), so lookups stay short however many connections come and go.
/// </summary>
internal sealed class ConnectionTable
{
    private const int MinCapacity = 16;

    private Connection?[] _slots = new Connection?[MinCapacity];
    private int[] _hashes = new int[MinCapacity];
    private int _mask = MinCapacity - 1;
    private int _shift = 32 - 4; // 32 - log2(capacity)
    private int _count;

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(int hash) => (int)((uint)hash * 0x9E3779B1u >> _shift); // Fibonacci hashing: the top bits

    /// <summary>The connection under <paramref name="key"/>, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public Connection? Find(in FlowKey key) => Find(key, key.GetHashCode(), out _);

    /// <summary>
    /// The connection under <paramref name="key"/> (hash <paramref name="hash"/>), or null; <paramref name="slot"/>
    /// is where it is, or where it would be inserted (for <see cref="Insert"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public Connection? Find(in FlowKey key, int hash, out int slot)
    {
        var slots = _slots;
        var hashes = _hashes;
        int mask = _mask;
        int i = Home(hash);
        while (true)
        {
            var conn = slots[i];
            if (conn is null || (hashes[i] == hash && conn.Key.Equals(key)))
            {
                slot = i;
                return conn;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Adds <paramref name="conn"/> at <paramref name="slot"/>, the empty slot <see cref="Find(in FlowKey, int, out int)"/> gave for its key.</summary>
    public void Insert(int slot, Connection conn, int hash)
    {
        _slots[slot] = conn;
        _hashes[slot] = hash;
        // Keep the load at most 1/2: probes stay short.
        if (++_count * 2 > _slots.Length)
            Grow();
    }

    /// <summary>Puts <paramref name="next"/> in the slot of <paramref name="current"/> (same key).</summary>
    public void Replace(int slot, Connection current, Connection next)
    {
        if (!ReferenceEquals(_slots[slot], current))
            throw new InvalidOperationException("The slot does not hold the connection replaced.");
        _slots[slot] = next;
    }

    /// <summary>Removes <paramref name="conn"/> if it is the table's connection for its key.</summary>
    public bool Remove(Connection conn)
    {
        int hash = conn.Key.GetHashCode();
        if (!ReferenceEquals(Find(conn.Key, hash, out int hole), conn))
            return false;
        var slots = _slots;
        var hashes = _hashes;
        int mask = _mask;
        slots[hole] = null;
        _count--;
        // Backward shift: move later entries of the run into the hole when their home allows it.
        int j = hole;
        while (true)
        {
            j = (j + 1) & mask;
            var moved = slots[j];
            if (moved is null)
                break;
            int home = Home(hashes[j]);
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                slots[hole] = moved;
                hashes[hole] = hashes[j];
                slots[j] = null;
                hole = j;
            }
        }
        return true;
    }

    private void Grow()
    {
        var oldSlots = _slots;
        var oldHashes = _hashes;
        _slots = new Connection?[oldSlots.Length * 2];
        _hashes = new int[oldSlots.Length * 2];
        _mask = _slots.Length - 1;
        _shift--;
        for (int k = 0; k < oldSlots.Length; k++)
        {
            if (oldSlots[k] is null)
                continue;
            int i = Home(oldHashes[k]);
            while (_slots[i] is not null)
                i = (i + 1) & _mask;
            _slots[i] = oldSlots[k];
            _hashes[i] = oldHashes[k];
        }
    }

    /// <summary>Adds every connection to <paramref name="into"/> (in table order).</summary>
    public void CopyTo(List<Connection> into)
    {
        foreach (var conn in _slots)
            if (conn is not null)
                into.Add(conn);
    }

    public void Clear()
    {
        _slots = new Connection?[MinCapacity];
        _hashes = new int[MinCapacity];
        _mask = MinCapacity - 1;
        _shift = 32 - 4;
        _count = 0;
    }
}

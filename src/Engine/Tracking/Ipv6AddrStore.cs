using System.Runtime.CompilerServices;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The IPv6 addresses of the open connections, each held once with a count of the keys using it (an IPv4
/// connection keeps its two addresses inline in its key; an IPv6 one keeps two ids from here in the same bytes).
/// Flows share addresses (a client's connections, a server's clients), so this costs per distinct address, not
/// per connection. An address no key uses stays until unused ones are as many as used ones (plus a margin); then
/// they are dropped together and their ids reused, so the store follows the open connections. Open addressing
/// over the ids, one array of (address, uses) by id.
/// </summary>
internal sealed class Ipv6AddrStore
{
    private struct Entry
    {
        public IPAddr128 Addr;
        public int Uses;
    }

    private Entry[] _entries = new Entry[16]; // by id; id 0 unused
    private int _ids = 1;
    private int[] _free = new int[8];
    private int _freeCount;
    private int[] _index = new int[32]; // open addressing: 0 empty, else an id
    private int _inIndex;               // ids in the index (used or kept)
    private int _inUse;                 // ids with uses

    /// <summary>Distinct addresses in use.</summary>
    public int Count => _inUse;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(in IPAddr128 a)
    {
        ulong h = a.Hi * 0x9E3779B97F4A7C15UL ^ a.Lo * 0xC2B2AE3D27D4EB4FUL;
        return (int)(h ^ (h >> 29) ^ (h >> 47));
    }

    /// <summary>The id of <paramref name="addr"/>, counted as one more use (to be given back with <see cref="Release"/>).</summary>
    public int Acquire(in IPAddr128 addr)
    {
        int mask = _index.Length - 1;
        int i = Hash(addr) & mask;
        int id;
        while (true)
        {
            id = _index[i];
            if (id == 0 || _entries[id].Addr == addr)
                break;
            i = (i + 1) & mask;
        }
        if (id == 0)
        {
            if (_inIndex - _inUse >= _inUse + 1024)
            {
                DropUnused();
                return Acquire(addr);
            }
            id = NewId();
            _entries[id].Addr = addr;
            _index[i] = id;
            if (++_inIndex * 2 > _index.Length)
                Rebuild(_index.Length * 2);
        }
        if (_entries[id].Uses++ == 0)
            _inUse++;
        return id;
    }

    /// <summary>One use of <paramref name="id"/> fewer.</summary>
    public void Release(int id)
    {
        if (--_entries[id].Uses == 0)
            _inUse--;
    }

    public ref readonly IPAddr128 this[int id]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[id].Addr;
    }

    private int NewId()
    {
        if (_freeCount > 0)
        {
            int id = _free[--_freeCount];
            _entries[id].Uses = 0; // was -1: free
            return id;
        }
        if (_ids == _entries.Length)
            Array.Resize(ref _entries, _entries.Length * 2);
        return _ids++;
    }

    /// <summary>Drops every address no key uses (marked free with uses -1) and rebuilds the index.</summary>
    private void DropUnused()
    {
        for (int id = 1; id < _ids; id++)
        {
            ref var e = ref _entries[id];
            if (e.Uses != 0)
                continue; // in use, or already free
            e.Uses = -1;
            e.Addr = default;
            if (_freeCount == _free.Length)
                Array.Resize(ref _free, _free.Length * 2);
            _free[_freeCount++] = id;
            _inIndex--;
        }
        Rebuild(_index.Length);
    }

    /// <summary>Rebuilds the index at <paramref name="size"/> slots from the ids kept (free ones have uses -1).</summary>
    private void Rebuild(int size)
    {
        var old = _index;
        _index = new int[size];
        int mask = size - 1;
        foreach (int id in old)
        {
            if (id == 0 || _entries[id].Uses < 0)
                continue;
            int i = Hash(_entries[id].Addr) & mask;
            while (_index[i] != 0)
                i = (i + 1) & mask;
            _index[i] = id;
        }
    }

    public void Clear()
    {
        _entries = new Entry[16];
        _ids = 1;
        _freeCount = 0;
        _index = new int[32];
        _inIndex = 0;
        _inUse = 0;
    }
}

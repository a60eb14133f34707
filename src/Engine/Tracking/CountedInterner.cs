using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// Values the open connections share (IPv6 addresses, link contexts), each held once under a small id with a
/// count of its users, so they cost per distinct value rather than per connection. Id 0 is never handed out.
/// An unused value stays (the next connection of the same host finds it again) until the unused ones outnumber the
/// used ones by <see cref="DropMargin"/>, or the interner is full and at least an eighth of it is unused; then the
/// unused ones are dropped together and their ids reused, so the interner follows the open connections. Open
/// addressing over the ids (hashed with <typeparamref name="T"/>'s own GetHashCode), one array of (value, uses) by id.
/// </summary>
internal class CountedInterner<T> where T : struct, IEquatable<T>
{
    /// <summary>How many more unused values than used ones are kept before they are dropped.</summary>
    public const int DropMargin = 1024;

    private struct Entry
    {
        public T Value;
        public int Uses; // -1: a free id
    }

    private readonly int _capacity;
    private Entry[] _entries = new Entry[16]; // by id; id 0 unused
    private int _ids = 1;                     // ids handed out (0 included), in use, kept or free
    private int[] _free = new int[8];         // free ids below _ids
    private int _freeCount;
    private int[] _index = new int[32];       // open addressing: 0 empty, else an id
    private int _inIndex;                     // ids in the index (used or kept)
    private int _inUse;                       // ids with uses

    /// <param name="capacity">The most distinct values held at once; past it <see cref="Acquire"/> gives 0.</param>
    public CountedInterner(int capacity = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>Distinct values in use.</summary>
    public int Count => _inUse;

    /// <summary>
    /// The id of <paramref name="value"/>, counted as one more use (to be given back with <see cref="Release"/>);
    /// 0 when the value is new and the interner is full of used values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public int Acquire(in T value)
    {
        int mask = _index.Length - 1;
        int i = value.GetHashCode() & mask;
        int id;
        while (true)
        {
            id = _index[i];
            if (id == 0 || _entries[id].Value.Equals(value))
                break;
            i = (i + 1) & mask;
        }
        if (id == 0)
        {
            int unused = _inIndex - _inUse;
            bool full = _inIndex >= _capacity;
            if (full ? unused >= Math.Max(1, _capacity / 8) : unused >= _inUse + DropMargin)
            {
                DropUnused();
                return Acquire(value);
            }
            if (full)
                return 0;
            id = NewId();
            _entries[id].Value = value;
            _index[i] = id;
            if (++_inIndex * 2 > _index.Length)
                Rebuild(_index.Length * 2);
        }
        if (_entries[id].Uses++ == 0)
            _inUse++;
        return id;
    }

    /// <summary>One more use of <paramref name="id"/>, an id held now (a caller's cached lookup).</summary>
    public void AddUse(int id)
    {
        if (_entries[id].Uses++ == 0)
            _inUse++;
    }

    /// <summary>One use of <paramref name="id"/> fewer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public void Release(int id)
    {
        if (--_entries[id].Uses == 0)
            _inUse--;
    }

    public ref readonly T this[int id]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[id].Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    private int NewId()
    {
        if (_freeCount > 0)
        {
            int id = _free[--_freeCount];
            _entries[id].Uses = 0;
            return id;
        }
        if (_ids == _entries.Length)
            Array.Resize(ref _entries, _entries.Length * 2);
        return _ids++;
    }

    /// <summary>Drops every value nobody uses (its id marked free) and rebuilds the index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs over every open connection at once: never tiered (see ConnTracker.Process)
    private void DropUnused()
    {
        for (int id = 1; id < _ids; id++)
        {
            ref var e = ref _entries[id];
            if (e.Uses != 0)
                continue; // in use, or already free
            e.Uses = -1;
            e.Value = default;
            if (_freeCount == _free.Length)
                Array.Resize(ref _free, _free.Length * 2);
            _free[_freeCount++] = id;
            _inIndex--;
        }
        Rebuild(_index.Length);
    }

    /// <summary>Rebuilds the index at <paramref name="size"/> slots from the ids kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs over every open connection at once: never tiered (see ConnTracker.Process)
    private void Rebuild(int size)
    {
        // A rebuild at the same size (after a drop) clears the array in place: a new one each drop was 11 MB of
        // int arrays over the 5M-packet bench capture, most of them large enough for the large object heap,
        // whose allocations bring on full collections.
        if (size == _index.Length)
            Array.Clear(_index);
        else
            _index = new int[size];
        int mask = size - 1;
        for (int id = 1; id < _ids; id++)
        {
            if (_entries[id].Uses < 0)
                continue;
            int i = _entries[id].Value.GetHashCode() & mask;
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

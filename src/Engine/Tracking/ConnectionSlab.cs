using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The connections, as structs in chunks of <see cref="ChunkSize"/> indexed by an int slot. Chunks never move,
/// so a <c>ref</c> to a connection stays valid while the slab grows; a freed slot goes on a free list (linked
/// through the free entries) and is reused first, so the slab follows the peak of open connections.
/// </summary>
internal sealed class ConnectionSlab
{
    private const int ChunkShift = 10;
    public const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private Connection[][] _chunks = new Connection[4][];
    private int _chunkCount;
    private int _high;          // slots ever handed out (the free ones included)
    private int _freeHead = -1; // a free slot below _high, or -1
    private int _live;

    /// <summary>Slots in use.</summary>
    public int Count => _live;

    public ref Connection this[int slot]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _chunks[slot >> ChunkShift][slot & ChunkMask];
    }

    /// <summary>A slot for a new connection (its entry is cleared).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public int Allocate()
    {
        int slot;
        if (_freeHead >= 0)
        {
            slot = _freeHead;
            ref var entry = ref this[slot];
            _freeHead = (int)entry.KeyA - 1;
            entry.KeyA = 0;
        }
        else
        {
            if (_high == _chunkCount << ChunkShift)
                AddChunk();
            slot = _high++;
        }
        _live++;
        return slot;
    }

    /// <summary>Clears <paramref name="slot"/> (dropping its cold part) and puts it on the free list.</summary>
    public void Free(int slot)
    {
        ref var entry = ref this[slot];
        entry = default;
        entry.KeyA = (uint)(_freeHead + 1); // a free entry's KeyA links the free list
        _freeHead = slot;
        _live--;
    }

    private void AddChunk()
    {
        if (_chunkCount == _chunks.Length)
            Array.Resize(ref _chunks, _chunks.Length * 2);
        _chunks[_chunkCount++] = new Connection[ChunkSize];
    }

    /// <summary>Empties the slab (every connection dropped).</summary>
    public void Clear()
    {
        _chunks = new Connection[4][];
        _chunkCount = 0;
        _high = 0;
        _freeHead = -1;
        _live = 0;
    }
}

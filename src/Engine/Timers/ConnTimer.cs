using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ConnTrack.Engine.Timers;

/// <summary>The connection timers Zeek schedules (Timer.h's TIMER_* kinds that matter for conn.log).</summary>
internal enum ConnTimerKind : byte
{
    /// <summary>Conn::InactivityTimer: no packet for the inactivity timeout.</summary>
    Inactivity,
    /// <summary>TCP ExpireTimer: first at tcp_SYN_timeout, then every tcp_session_timer.</summary>
    TcpExpire,
    /// <summary>TCP AttemptTimer: an unanswered SYN after tcp_attempt_delay.</summary>
    TcpAttempt,
    /// <summary>TCP ConnDeleteTimer: tcp_close_delay after both sides closed.</summary>
    TcpCloseDelete,
    /// <summary>The DNS analyzer's ExpireTimer on a UDP DNS connection: dns_session_timeout of silence.</summary>
    DnsExpire,
}

/// <summary>
/// One pending timer of a connection: when it is due, its arming number (ties at the same time fire in
/// arming order) and its kind. 16 bytes.
/// </summary>
internal struct PendingTimer
{
    public long Time;
    public uint Seq;
    public ConnTimerKind Kind;

    public PendingTimer(long time, uint seq, ConnTimerKind kind)
    {
        Time = time;
        Seq = seq;
        Kind = kind;
    }

    /// <summary>
    /// (time, arming order) order. Arming numbers wrap: they are compared by their difference, which is right
    /// while the timers pending at once were armed fewer than 2^31 armings apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Before(long time, uint seq, long otherTime, uint otherSeq) =>
        time < otherTime || (time == otherTime && (int)(seq - otherSeq) < 0);
}

[InlineArray(Tracking.Connection.InlineTimers)]
internal struct InlineTimerTimes
{
    private long _first;
}

/// <summary>
/// Connections with pending timers, ordered by each one's earliest timer (time, then arming order). Popping
/// connections in this order fires timers in exactly the order of one queue holding every pending timer, as Zeek's
/// TimerMgr does; but a removed connection leaves nothing behind, so the queue follows the open connections.
/// <para>
/// Two parts. Timers due soon sit in a binary min-heap of 16-byte entries (time, arming number, slab slot). Timers
/// due later (most of them: inactivity timeouts are minutes) sit unordered in buckets of 2^27 ns (~134 ms) on a wheel
/// of <see cref="BucketCount"/> buckets (~73 min) ahead of the heap's <see cref="_horizon"/>. Every bucket entry is
/// due at or after the horizon and every heap entry before it, unless it is beyond the wheel's reach; when the heap
/// has nothing before the horizon, the next bucket is moved into the heap and the horizon steps on. So a timer armed
/// or moved minutes ahead costs an append (or a swap-remove and an append), and the heap, which the clock pops from
/// at every packet, holds only the timers due within the clock's own bucket, few enough to stay in cache. A connection finds its entry from
/// <see cref="Tracking.Connection.HeapSlot"/>: a heap index plus one, or the complement of its position in its bucket
/// (the bucket is kept by slot beside the wheel).
/// </para>
/// </summary>
internal sealed class ConnTimerHeap
{
    private struct Entry
    {
        public long Time;
        public uint Seq;
        public int Slot;
    }

    /// <summary>log2 of a bucket's span in ns (2^27 ns, ~134 ms).</summary>
    private const int BucketShift = 27;
    /// <summary>Buckets on the wheel (32,768 x 134 ms, ~73 min: Zeek's longest default timeout, an hour for some ports, fits).</summary>
    internal const int BucketCount = 1 << 15;
    /// <summary>
    /// An emptied bucket's array is kept for the next bucket that fills if it is this small, up to this many at a
    /// time; others are let go. So buckets hold arrays only while they hold entries, each at most twice its peak
    /// (or the small size), and what the wheel holds follows the connections open: reusing any array would let
    /// every bucket end up with the largest one any bucket ever needed.
    /// </summary>
    private const int SpareBucketCapacity = 64;
    private const int MaxSpareBuckets = 256;
    private readonly Stack<int[]> _spareBuckets = new();

    private readonly Tracking.ConnectionSlab _slab;
    private Entry[] _heap = new Entry[64];
    private int _count;

    private readonly int[]?[] _buckets = new int[]?[BucketCount];
    private readonly int[] _bucketCounts = new int[BucketCount];
    /// <summary>The bucket of each slot on the wheel, by slot (its position there is in its HeapSlot).</summary>
    private ushort[] _bucketOfSlot = new ushort[1024];
    private int _farCount;
    /// <summary>Where the wheel starts (a multiple of the bucket span): bucket entries are due at or after it.</summary>
    private long _horizon = long.MinValue;

    public ConnTimerHeap(Tracking.ConnectionSlab slab) => _slab = slab;

    /// <summary>Connections with a pending timer.</summary>
    public int Count => _count + _farCount;

    /// <summary>Buckets holding an array now (for tests: only buckets with entries hold one).</summary>
    internal int BucketArraysHeld => _buckets.Count(bucket => bucket is not null);

    /// <summary>The capacity of the arrays the buckets hold now (for tests).</summary>
    internal long BucketCapacityHeld => _buckets.Sum(bucket => (long)(bucket?.Length ?? 0));

    /// <summary>
    /// Tells the queue the clock's time (ns). With the wheel empty its horizon moves up to the bucket after
    /// <paramref name="now"/>, so timers armed from now on that are due after the clock's own bucket go to the wheel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(long now)
    {
        if (_farCount == 0 && now >= _horizon)
            _horizon = ((now >> BucketShift) + 1) << BucketShift;
    }

    /// <summary>The slot of the connection whose earliest timer is the earliest of all, and that timer's time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPeek(out int slot, out long time)
    {
        if (_farCount > 0 && (_count == 0 || _heap[0].Time >= _horizon))
            DrainWheel();
        if (_count == 0)
        {
            slot = -1;
            time = 0;
            return false;
        }
        slot = _heap[0].Slot;
        time = _heap[0].Time;
        return true;
    }

    /// <summary>Moves buckets into the heap, stepping the horizon on, until the heap has an entry before the horizon or the wheel is empty.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // per timer: never tiered (see ConnTracker.Process)
    private void DrainWheel()
    {
        while (_farCount > 0 && (_count == 0 || _heap[0].Time >= _horizon))
        {
            int b = (int)((ulong)(_horizon >> BucketShift) % BucketCount);
            _horizon += 1L << BucketShift;
            var bucket = _buckets[b];
            if (bucket is null)
                continue;
            int n = _bucketCounts[b];
            _bucketCounts[b] = 0;
            _farCount -= n;
            for (int k = 0; k < n; k++)
            {
                // The bucket's connections are scattered over the slab: ask for those a few entries on, so their
                // misses overlap instead of each heap insertion waiting for its own.
                if (k + DrainLookAhead < n)
                    PrefetchEntry(bucket[k + DrainLookAhead]);
                int slot = bucket[k];
                ref var conn = ref _slab[slot];
                conn.TryGetEarliestTimer(out _, out long time, out uint seq);
                if (_count == _heap.Length)
                    Array.Resize(ref _heap, _heap.Length * 2);
                SiftUp(_count++, new Entry { Time = time, Seq = seq, Slot = slot });
            }
            ReleaseBucket(b, bucket);
        }
    }

    private const int DrainLookAhead = 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchEntry(int slot)
    {
        if (!Sse.IsSupported)
            return;
        byte* at = (byte*)Unsafe.AsPointer(ref _slab[slot]);
        Sse.Prefetch0(at);
        Sse.Prefetch0(at + 64);
        Sse.Prefetch0(at + Unsafe.SizeOf<Tracking.Connection>() - 1);
    }

    /// <summary>Takes an emptied bucket's array away, keeping it for another bucket if it is not too large.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per timer: never tiered (see ConnTracker.Process)
    private void ReleaseBucket(int b, int[] bucket)
    {
        _buckets[b] = null;
        if (bucket.Length <= SpareBucketCapacity && _spareBuckets.Count < MaxSpareBuckets)
            _spareBuckets.Push(bucket);
    }

    /// <summary>The wheel bucket a timer due at <paramref name="time"/> goes to, or -1 for the heap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int BucketOf(long time)
    {
        if (time < _horizon)
            return -1;
        long index = time >> BucketShift;
        if (index - (_horizon >> BucketShift) >= BucketCount)
            return -1; // beyond the wheel's reach: the heap takes it
        return (int)((ulong)index % BucketCount);
    }

    /// <summary>Puts the connection in <paramref name="slot"/> where its earliest pending timer belongs (out of the queue when it has none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public void Update(int slot)
    {
        ref var conn = ref _slab[slot];
        if (!conn.TryGetEarliestTimer(out _, out long time, out uint seq))
        {
            Remove(slot);
            return;
        }
        int b = BucketOf(time);
        int place = conn.HeapSlot;
        if (place < 0)
        {
            if (b == _bucketOfSlot[slot])
                return; // still in its bucket (a bucket is unordered)
            RemoveFromWheel(slot, place);
        }
        if (b >= 0)
        {
            if (place > 0)
                RemoveFromHeap(slot, place - 1);
            AddToWheel(slot, b);
            return;
        }

        int i = conn.HeapSlot - 1;
        if (i < 0)
        {
            if (_count == _heap.Length)
                Array.Resize(ref _heap, _heap.Length * 2);
            i = _count++;
        }
        else if (_heap[i].Time == time && _heap[i].Seq == seq)
            return; // earliest unchanged
        var entry = new Entry { Time = time, Seq = seq, Slot = slot };
        if (i > 0 && PendingTimer.Before(time, seq, _heap[(i - 1) >> 1].Time, _heap[(i - 1) >> 1].Seq))
            SiftUp(i, entry);
        else
            SiftDown(i, entry);
    }

    /// <summary>
    /// Asks the CPU for the line of <see cref="_bucketOfSlot"/> that holds <paramref name="slot"/>'s bucket: <see cref="Update"/>
    /// reads it for nearly every packet (is the earliest timer still in its bucket?), and by slot it is a cache miss
    /// (perf: Update's share of a pass 2.65% before, 0.57% with the prefetch; 8 alternating warm passes 3% faster).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchBucketOf(int slot)
    {
        var buckets = _bucketOfSlot;
        if (Sse.IsSupported && (uint)slot < (uint)buckets.Length)
            Sse.Prefetch0(Unsafe.AsPointer(ref buckets[slot]));
    }

    /// <summary>Takes the connection in <paramref name="slot"/> out of the queue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public void Remove(int slot)
    {
        int place = _slab[slot].HeapSlot;
        if (place > 0)
            RemoveFromHeap(slot, place - 1);
        else if (place < 0)
            RemoveFromWheel(slot, place);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void AddToWheel(int slot, int b)
    {
        var bucket = _buckets[b];
        int n = _bucketCounts[b];
        if (bucket is null)
            _buckets[b] = bucket = _spareBuckets.TryPop(out var spare) ? spare : new int[16];
        else if (n == bucket.Length)
        {
            Array.Resize(ref bucket, n * 2);
            _buckets[b] = bucket;
        }
        bucket[n] = slot;
        _bucketCounts[b] = n + 1;
        _farCount++;
        _slab[slot].HeapSlot = ~n;
        if (slot >= _bucketOfSlot.Length)
            Array.Resize(ref _bucketOfSlot, Math.Max(slot + 1, _bucketOfSlot.Length * 2));
        _bucketOfSlot[slot] = (ushort)b;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void RemoveFromWheel(int slot, int place)
    {
        int b = _bucketOfSlot[slot];
        int position = ~place;
        var bucket = _buckets[b]!;
        int last = --_bucketCounts[b];
        if (position != last)
        {
            int moved = bucket[last];
            bucket[position] = moved;
            _slab[moved].HeapSlot = ~position;
        }
        else if (last == 0)
            ReleaseBucket(b, bucket);
        _farCount--;
        _slab[slot].HeapSlot = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void RemoveFromHeap(int slot, int i)
    {
        _slab[slot].HeapSlot = 0;
        int last = --_count;
        var moved = _heap[last];
        _heap[last] = default;
        if (i == last)
            return;
        if (i > 0 && PendingTimer.Before(moved.Time, moved.Seq, _heap[(i - 1) >> 1].Time, _heap[(i - 1) >> 1].Seq))
            SiftUp(i, moved);
        else
            SiftDown(i, moved);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void SiftUp(int i, in Entry entry)
    {
        var heap = _heap;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            ref var p = ref heap[parent];
            if (!PendingTimer.Before(entry.Time, entry.Seq, p.Time, p.Seq))
                break;
            heap[i] = p;
            _slab[p.Slot].HeapSlot = i + 1;
            i = parent;
        }
        heap[i] = entry;
        _slab[entry.Slot].HeapSlot = i + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void SiftDown(int i, in Entry entry)
    {
        var heap = _heap;
        int n = _count;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n)
                break;
            if (child + 1 < n && PendingTimer.Before(heap[child + 1].Time, heap[child + 1].Seq, heap[child].Time, heap[child].Seq))
                child++;
            ref var c = ref heap[child];
            if (!PendingTimer.Before(c.Time, c.Seq, entry.Time, entry.Seq))
                break;
            heap[i] = c;
            _slab[c.Slot].HeapSlot = i + 1;
            i = child;
        }
        heap[i] = entry;
        _slab[entry.Slot].HeapSlot = i + 1;
    }

    /// <summary>Empties the queue (the connections' own timer sets and places are left to their owners).</summary>
    public void Clear()
    {
        Array.Clear(_heap, 0, _count);
        _count = 0;
        Array.Clear(_buckets);
        Array.Clear(_bucketCounts);
        _spareBuckets.Clear();
        _farCount = 0;
        _horizon = long.MinValue;
    }
}

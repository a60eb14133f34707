using System.Runtime.CompilerServices;

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
/// Connections with pending timers, ordered by each one's earliest timer (time, then arming order): a binary
/// min-heap of 16-byte entries (time, arming number, slab slot) indexed from the connections
/// (<see cref="Tracking.Connection.HeapSlot"/>), so a connection's entry is updated or removed in O(log n) when its timers
/// change or it is removed. Popping connections in this order fires timers in exactly the order of one queue
/// holding every pending timer, as Zeek's TimerMgr does; but a removed connection leaves nothing behind, so the
/// heap follows the open connections.
/// </summary>
internal sealed class ConnTimerHeap
{
    private struct Entry
    {
        public long Time;
        public uint Seq;
        public int Slot;
    }

    private readonly Tracking.ConnectionSlab _slab;
    private Entry[] _heap = new Entry[64];
    private int _count;

    public ConnTimerHeap(Tracking.ConnectionSlab slab) => _slab = slab;

    public int Count => _count;

    /// <summary>The slot of the connection whose earliest timer is the earliest of all, and that timer's time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPeek(out int slot, out long time)
    {
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

    /// <summary>Puts the connection in <paramref name="slot"/> where its earliest pending timer belongs (out of the heap when it has none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public void Update(int slot)
    {
        ref var conn = ref _slab[slot];
        if (!conn.TryGetEarliestTimer(out _, out long time, out uint seq))
        {
            Remove(slot);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public void Remove(int slot)
    {
        ref var conn = ref _slab[slot];
        int i = conn.HeapSlot - 1;
        if (i < 0)
            return;
        conn.HeapSlot = 0;
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

    /// <summary>Empties the heap (the connections' own timer sets are left to their owners).</summary>
    public void Clear()
    {
        Array.Clear(_heap, 0, _count);
        _count = 0;
    }
}

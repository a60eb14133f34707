using System.Diagnostics.CodeAnalysis;
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

[InlineArray(Capacity)]
internal struct InlineTimers
{
    public const int Capacity = 3;
    private PendingTimer _first;
}

/// <summary>
/// The timers a connection has pending, held inside the connection (Zeek keeps a connection's timers with it and
/// cancels them all when it is removed). Three fit inline (a SYN-only TCP connection arms exactly three: expire,
/// inactivity, attempt); more spill into a small array. Unordered: the earliest is found by a scan.
/// </summary>
internal struct ConnTimerSet
{
    private InlineTimers _inline;
    private PendingTimer[]? _more;
    private byte _count;

    /// <summary>Position in the <see cref="ConnTimerHeap"/> plus one; 0 when not in it.</summary>
    internal int HeapSlot;

    public readonly int Count => _count;

    [UnscopedRef]
    private ref PendingTimer At(int i)
    {
        if (i < InlineTimers.Capacity)
            return ref _inline[i];
        return ref _more![i - InlineTimers.Capacity];
    }

    public void Add(in PendingTimer timer)
    {
        int n = _count;
        if (n >= InlineTimers.Capacity)
        {
            int extra = n - InlineTimers.Capacity;
            if (_more is null || extra == _more.Length)
                Array.Resize(ref _more, Math.Max(2, extra * 2));
        }
        At(n) = timer;
        _count = (byte)(n + 1);
    }

    /// <summary>Cancels every pending timer of one of the kinds in <paramref name="kinds"/> (a bit per kind).</summary>
    public void Cancel(int kinds)
    {
        for (int i = 0; i < _count;)
        {
            if ((kinds & (1 << (int)At(i).Kind)) != 0)
                RemoveAt(i);
            else
                i++;
        }
    }

    public static int Bit(ConnTimerKind kind) => 1 << (int)kind;

    /// <summary>The earliest pending timer (time, then arming order); false when none.</summary>
    public bool TryGetEarliest(out int index, out long time, out uint seq)
    {
        index = -1;
        time = 0;
        seq = 0;
        for (int i = 0; i < _count; i++)
        {
            ref var t = ref At(i);
            if (index < 0 || PendingTimer.Before(t.Time, t.Seq, time, seq))
            {
                index = i;
                time = t.Time;
                seq = t.Seq;
            }
        }
        return index >= 0;
    }

    public PendingTimer RemoveAt(int index)
    {
        var taken = At(index);
        int last = _count - 1;
        if (index != last)
            At(index) = At(last);
        _count = (byte)last;
        if (last == InlineTimers.Capacity)
            _more = null; // back to inline only
        return taken;
    }

    public void Clear()
    {
        _count = 0;
        _more = null;
    }
}

/// <summary>
/// Connections with pending timers, ordered by each one's earliest timer (time, then arming order): a binary
/// min-heap indexed from the connections (<see cref="ConnTimerSet.HeapSlot"/>), so a connection's entry is
/// updated or removed in O(log n) when its timers change or it is removed. Popping connections in this order
/// fires timers in exactly the order of one queue holding every pending timer, as Zeek's TimerMgr does; but a
/// removed connection leaves nothing behind, so the heap follows the open connections.
/// </summary>
internal sealed class ConnTimerHeap
{
    private struct Entry
    {
        public long Time;
        public uint Seq;
        public Tracking.Connection Conn;
    }

    private Entry[] _heap = new Entry[64];
    private int _count;

    public int Count => _count;

    /// <summary>The connection whose earliest timer is the earliest of all, and that timer's time.</summary>
    public bool TryPeek(out Tracking.Connection conn, out long time)
    {
        if (_count == 0)
        {
            conn = null!;
            time = 0;
            return false;
        }
        conn = _heap[0].Conn;
        time = _heap[0].Time;
        return true;
    }

    /// <summary>Puts <paramref name="conn"/> where its earliest pending timer belongs (out of the heap when it has none).</summary>
    public void Update(Tracking.Connection conn)
    {
        ref var timers = ref conn.Timers;
        if (!timers.TryGetEarliest(out _, out long time, out uint seq))
        {
            Remove(conn);
            return;
        }
        int i = timers.HeapSlot - 1;
        if (i < 0)
        {
            if (_count == _heap.Length)
                Array.Resize(ref _heap, _heap.Length * 2);
            i = _count++;
        }
        else if (_heap[i].Time == time && _heap[i].Seq == seq)
            return; // earliest unchanged
        var entry = new Entry { Time = time, Seq = seq, Conn = conn };
        if (i > 0 && PendingTimer.Before(time, seq, _heap[(i - 1) >> 1].Time, _heap[(i - 1) >> 1].Seq))
            SiftUp(i, entry);
        else
            SiftDown(i, entry);
    }

    public void Remove(Tracking.Connection conn)
    {
        int i = conn.Timers.HeapSlot - 1;
        if (i < 0)
            return;
        conn.Timers.HeapSlot = 0;
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
            p.Conn.Timers.HeapSlot = i + 1;
            i = parent;
        }
        heap[i] = entry;
        entry.Conn.Timers.HeapSlot = i + 1;
    }

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
            c.Conn.Timers.HeapSlot = i + 1;
            i = child;
        }
        heap[i] = entry;
        entry.Conn.Timers.HeapSlot = i + 1;
    }

    /// <summary>Empties the heap (the connections' own timer sets are left to their owners).</summary>
    public void Clear()
    {
        Array.Clear(_heap, 0, _count);
        _count = 0;
    }
}

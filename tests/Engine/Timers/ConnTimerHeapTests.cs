using ConnTrack.Engine.Net;
using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Timers;

/// <summary>
/// The per-connection timer sets and the heap of connections ordered by their earliest timer: popping one timer
/// at a time must give exactly the order of a single queue of all timers, (time, arming order).
/// </summary>
public class ConnTimerHeapTests
{
    private readonly ConnectionSlab _slab = new();

    private int NewConn(int i)
    {
        int slot = _slab.Allocate();
        _slab[slot].SetKey(FlowKey.Create(IPAddr128.FromIPv4(0x0A000001), (ushort)i, IPAddr128.FromIPv4(0x0A000002), 80, 6, true), new Ipv6AddrStore());
        _slab[slot].Status = ConnStatus.Live;
        return slot;
    }

    private void Add(int slot, PendingTimer timer) => _slab[slot].AddTimer(timer);

    private (int conn, PendingTimer timer) PopEarliest(ConnTimerHeap heap)
    {
        Assert.True(heap.TryPeek(out int slot, out long time));
        ref var conn = ref _slab[slot];
        Assert.True(conn.TryGetEarliestTimer(out int index, out long earliest, out _));
        Assert.Equal(time, earliest);
        var timer = conn.RemoveTimerAt(index);
        heap.Update(slot);
        return (slot, timer);
    }

    [Fact]
    public void TimersDueAtTheSameTimeComeOutInArmingOrderAcrossConnections()
    {
        var heap = new ConnTimerHeap(_slab);
        var a = NewConn(1);
        var b = NewConn(2);
        uint seq = 0;
        Add(a, new PendingTimer(100, seq++, ConnTimerKind.TcpExpire));   // 0
        heap.Update(a);
        Add(b, new PendingTimer(100, seq++, ConnTimerKind.Inactivity));  // 1
        heap.Update(b);
        Add(a, new PendingTimer(100, seq++, ConnTimerKind.TcpAttempt));  // 2
        heap.Update(a);
        Add(b, new PendingTimer(50, seq++, ConnTimerKind.DnsExpire));    // 3, earlier
        heap.Update(b);

        var order = new List<(int, ConnTimerKind, uint)>();
        while (heap.Count > 0)
        {
            var (conn, t) = PopEarliest(heap);
            order.Add((conn, t.Kind, t.Seq));
        }
        Assert.Equal(new (int, ConnTimerKind, uint)[]
        {
            (b, ConnTimerKind.DnsExpire, 3), (a, ConnTimerKind.TcpExpire, 0), (b, ConnTimerKind.Inactivity, 1), (a, ConnTimerKind.TcpAttempt, 2),
        }, order);
        Assert.Equal(0, _slab[a].HeapSlot);
        Assert.Equal(0, _slab[b].HeapSlot);
    }

    [Fact]
    public void ArmingOrderSurvivesTheWrapOfTheArmingCounter()
    {
        var heap = new ConnTimerHeap(_slab);
        var a = NewConn(1);
        var b = NewConn(2);
        Add(a, new PendingTimer(100, uint.MaxValue, ConnTimerKind.TcpExpire)); // armed first
        heap.Update(a);
        Add(b, new PendingTimer(100, 0, ConnTimerKind.TcpExpire));             // armed next, counter wrapped
        heap.Update(b);
        Assert.Equal(a, PopEarliest(heap).conn);
        Assert.Equal(b, PopEarliest(heap).conn);
    }

    /// <summary>
    /// The random tests' reference: every pending timer in one list, driven alongside the queue under test. Each
    /// operation is done on both; <see cref="PopEarliest"/> pops from both and checks they agree.
    /// </summary>
    private sealed class OneQueue(ConnTimerHeapTests test, ConnTimerHeap heap)
    {
        private readonly List<(long Time, uint Seq, int Conn, ConnTimerKind Kind)> _all = new();
        private uint _seq;

        public int Popped { get; private set; }
        public int Pending => _all.Count;
        public long EarliestPending => _all.Min(t => t.Time);

        public void Arm(int slot, long time, ConnTimerKind kind)
        {
            test._slab[slot].AddTimer(new PendingTimer(time, _seq, kind));
            _all.Add((time, _seq, slot, kind));
            _seq++;
            heap.Update(slot);
        }

        public void Cancel(int slot, int kinds)
        {
            test._slab[slot].CancelTimers(kinds);
            _all.RemoveAll(t => t.Conn == slot && (kinds & (1 << (int)t.Kind)) != 0);
            heap.Update(slot);
        }

        public void RemoveConnection(int slot)
        {
            heap.Remove(slot);
            test._slab[slot].ClearTimers();
            _all.RemoveAll(t => t.Conn == slot);
        }

        public void PopEarliest()
        {
            var best = _all.OrderBy(t => t.Time).ThenBy(t => t.Seq).First();
            _all.Remove(best);
            var (_, timer) = test.PopEarliest(heap);
            Assert.Equal((best.Time, best.Seq, best.Kind), (timer.Time, timer.Seq, timer.Kind));
            Popped++;
        }

        /// <summary>The queue holds one entry per connection with a pending timer.</summary>
        public void CheckCount() => Assert.Equal(_all.Select(t => t.Conn).Distinct().Count(), heap.Count);

        /// <summary>One random operation on a random connection: arm (with a time from <paramref name="time"/>), cancel, or remove it.</summary>
        public void RandomStep(Random rng, int[] conns, int armTenths, Func<long> time)
        {
            var slot = conns[rng.Next(conns.Length)];
            int op = rng.Next(10);
            if (op < armTenths)
                Arm(slot, time(), (ConnTimerKind)rng.Next(5));
            else if (op < armTenths + 2)
                Cancel(slot, 1 << rng.Next(5) | 1 << rng.Next(5));
            else if (op < armTenths + 3)
                RemoveConnection(slot);
        }
    }

    [Fact]
    public void RandomArmsCancelsAndRemovalsMatchOneQueueOfAllTimers()
    {
        var rng = new Random(7);
        var heap = new ConnTimerHeap(_slab);
        var conns = Enumerable.Range(0, 200).Select(NewConn).ToArray();
        var model = new OneQueue(this, heap);
        for (int step = 0; step < 20_000; step++)
        {
            // Half the steps arm, and a fifth pop the earliest (times 0 to 999: many ties).
            if (rng.Next(10) < 8)
                model.RandomStep(rng, conns, armTenths: 6, () => rng.Next(1000));
            else if (heap.Count > 0)
                model.PopEarliest();
            model.CheckCount();
        }
        Assert.True(model.Popped > 1000);
    }

    /// <summary>
    /// As above at the scale of real timers, so most of them go to the wheel: the clock moves on by up to 3 s a
    /// step, timers are armed from now to 80 min ahead (past the wheel's ~73 min some go to the heap), often at the
    /// same time, and everything due is popped at each step, in the order of one queue of all timers; now and then
    /// the clock jumps hours ahead.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void TheWheelPopsInTheOrderOfOneQueueAsTheClockMovesOn(int seed)
    {
        var rng = new Random(seed);
        var heap = new ConnTimerHeap(_slab);
        var conns = Enumerable.Range(0, 300).Select(NewConn).ToArray();
        var model = new OneQueue(this, heap);
        long now = 1_700_000_000L * Second + rng.NextInt64(Second);
        long[] spans = { Second, 5 * Second, 60 * Second, 300 * Second, 3600 * Second, 80 * 60 * Second };
        for (int step = 0; step < 30_000; step++)
        {
            // Mostly small steps; now and then a gap of hours (a capture resumed later) that leaves the wheel behind.
            now += rng.Next(500) == 0 ? rng.NextInt64(10 * 3600 * Second) : rng.Next(4) == 0 ? 0 : rng.NextInt64(3 * Second);
            heap.Advance(now);
            // Whole seconds half the time: ties between connections and between a bucket's entries.
            model.RandomStep(rng, conns, armTenths: 6, () =>
            {
                long span = spans[rng.Next(spans.Length)];
                return now + (rng.Next(2) == 0 ? rng.NextInt64(span) / Second * Second : rng.NextInt64(span));
            });
            // Fire everything due, as the tracker's clock does.
            while (heap.TryPeek(out _, out long due) && due <= now)
                model.PopEarliest();
            Assert.True(model.Pending == 0 || model.EarliestPending > now);
            model.CheckCount();
        }
        Assert.True(model.Popped > 5000);
        // Everything still pending comes out in order too.
        while (heap.Count > 0)
            model.PopEarliest();
        Assert.Equal(0, model.Pending);
    }

    [Fact]
    public void TimersMinutesAheadWaitOnTheWheelAndTheHeapHoldsOnlyTheCurrentBucket()
    {
        long now = T0;
        var heap = HeapAt(now);
        var soon = NewConn(1);
        var later = NewConn(2);
        var beyond = NewConn(3);
        Add(soon, new PendingTimer(now, 0, ConnTimerKind.TcpAttempt)); // due in the clock's own bucket
        heap.Update(soon);
        Add(later, new PendingTimer(now + 300 * Second, 1, ConnTimerKind.Inactivity));
        heap.Update(later);
        Add(beyond, new PendingTimer(now + 2 * 3600 * Second, 2, ConnTimerKind.Inactivity));
        heap.Update(beyond);
        Assert.True(_slab[soon].HeapSlot > 0);   // in the heap
        Assert.True(_slab[later].HeapSlot < 0);  // on the wheel
        Assert.True(_slab[beyond].HeapSlot > 0); // past the wheel's reach: in the heap
        Assert.Equal(3, heap.Count);

        Assert.Equal(soon, PopEarliest(heap).conn);
        Assert.Equal(later, PopEarliest(heap).conn); // drained from the wheel ahead of the later heap entry
        Assert.Equal(beyond, PopEarliest(heap).conn);
        Assert.Equal(0, heap.Count);
    }

    private const long Second = 1_000_000_000L;
    private const long T0 = 1_700_000_000L * Second;

    /// <summary>An empty queue whose clock is at <paramref name="now"/>.</summary>
    private ConnTimerHeap HeapAt(long now)
    {
        var heap = new ConnTimerHeap(_slab);
        heap.Advance(now);
        return heap;
    }

    /// <summary>Arms one timer for each of <paramref name="count"/> new connections, spread over <paramref name="seconds"/> whole seconds from 10 s after <paramref name="now"/>.</summary>
    private int[] ArmSpread(ConnTimerHeap heap, long now, int count, int seconds)
    {
        var conns = Enumerable.Range(0, count).Select(NewConn).ToArray();
        for (int i = 0; i < conns.Length; i++)
        {
            Add(conns[i], new PendingTimer(now + (10 + i % seconds) * Second, (uint)i, ConnTimerKind.Inactivity));
            heap.Update(conns[i]);
        }
        return conns;
    }

    /// <summary>Moves the clock to <paramref name="now"/> and pops every timer due; returns how many.</summary>
    private int FireDue(ConnTimerHeap heap, long now)
    {
        heap.Advance(now);
        int fired = 0;
        while (heap.TryPeek(out _, out long due) && due <= now)
        {
            PopEarliest(heap);
            fired++;
        }
        return fired;
    }

    [Fact]
    public void TheWheelHoldsArraysOnlyForBucketsWithEntries()
    {
        long now = T0;
        var heap = HeapAt(now);
        var conns = ArmSpread(heap, now, count: 400, seconds: 40);
        Assert.Equal(40, heap.BucketArraysHeld);
        // Half the buckets emptied by removals, the rest by the clock.
        foreach (var slot in conns.Where((_, i) => i % 40 < 20))
        {
            heap.Remove(slot);
            _slab[slot].ClearTimers();
        }
        Assert.Equal(20, heap.BucketArraysHeld);
        Assert.Equal(200, heap.Count);
        Assert.Equal(200, FireDue(heap, now + 3600 * Second));
        Assert.Equal(0, heap.BucketArraysHeld);
    }

    [Fact]
    public void ABucketThatWasBusyOnceDoesNotMakeLaterBucketsHoldLargeArrays()
    {
        long now = T0;
        var heap = HeapAt(now);
        // Ten busy buckets of 1,000 timers each, then the clock past them.
        var conns = ArmSpread(heap, now, count: 10_000, seconds: 10);
        Assert.True(heap.BucketCapacityHeld >= 10_000);
        now += 60 * Second;
        Assert.Equal(10_000, FireDue(heap, now));
        Assert.Equal(0, heap.Count);
        // Then ten quiet buckets of one timer each: they hold small arrays, not the busy buckets' old ones.
        for (int i = 0; i < 10; i++)
        {
            Add(conns[i], new PendingTimer(now + (10 + i) * Second, (uint)(20_000 + i), ConnTimerKind.Inactivity));
            heap.Update(conns[i]);
        }
        Assert.Equal(10, heap.BucketArraysHeld);
        Assert.True(heap.BucketCapacityHeld <= 10 * 64, $"{heap.BucketCapacityHeld} slots held for 10 timers");
    }

    [Fact]
    public void MoreTimersThanFitInlineAreKeptInTheRarePartAndDroppedWhenBackToThree()
    {
        int slot = NewConn(1);
        ref var conn = ref _slab[slot];
        for (uint i = 0; i < 7; i++)
            conn.AddTimer(new PendingTimer(70 - i * 10, i, (ConnTimerKind)(i % 5)));
        Assert.Equal(7, conn.TimerCount);
        Assert.NotNull(conn.Rare?.TimersMore);
        var popped = new List<(long, ConnTimerKind)>();
        while (conn.TryGetEarliestTimer(out int index, out _, out _))
        {
            popped.Add((conn.RemoveTimerAt(index) is var t ? (t.Time, t.Kind) : default));
            if (conn.TimerCount <= Connection.InlineTimers)
                Assert.Null(conn.Rare!.TimersMore);
        }
        Assert.Equal(new (long, ConnTimerKind)[]
        {
            (10, ConnTimerKind.TcpExpire), (20, ConnTimerKind.Inactivity), (30, ConnTimerKind.DnsExpire),
            (40, ConnTimerKind.TcpCloseDelete), (50, ConnTimerKind.TcpAttempt), (60, ConnTimerKind.TcpExpire), (70, ConnTimerKind.Inactivity),
        }, popped);
        Assert.Equal(0, conn.TimerCount);
    }
}

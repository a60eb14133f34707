using ConnTrack.Engine.Config;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking;
using ConnTrack.Engine.Tests.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Timers;

/// <summary>
/// The per-connection timer sets and the heap of connections ordered by their earliest timer: popping one timer
/// at a time must give exactly the order of a single queue of all timers, (time, arming order).
/// </summary>
public class ConnTimerHeapTests
{
    private static readonly ConnTracker Tracker = new(new ConnTrackOptions(), new ListSink());

    private static Connection NewConn(int i) =>
        new(Tracker, FlowKey.Create(IPAddr128.FromIPv4(0x0A000001), (ushort)i, IPAddr128.FromIPv4(0x0A000002), 80, 6, true),
            TransportProto.Tcp, 6, 0);

    private static (Connection conn, PendingTimer timer) PopEarliest(ConnTimerHeap heap)
    {
        Assert.True(heap.TryPeek(out var conn, out long time));
        Assert.True(conn.Timers.TryGetEarliest(out int index, out long earliest, out _));
        Assert.Equal(time, earliest);
        var timer = conn.Timers.RemoveAt(index);
        heap.Update(conn);
        return (conn, timer);
    }

    [Fact]
    public void TimersDueAtTheSameTimeComeOutInArmingOrderAcrossConnections()
    {
        var heap = new ConnTimerHeap();
        var a = NewConn(1);
        var b = NewConn(2);
        uint seq = 0;
        a.Timers.Add(new PendingTimer(100, seq++, ConnTimerKind.TcpExpire));   // 0
        heap.Update(a);
        b.Timers.Add(new PendingTimer(100, seq++, ConnTimerKind.Inactivity));  // 1
        heap.Update(b);
        a.Timers.Add(new PendingTimer(100, seq++, ConnTimerKind.TcpAttempt));  // 2
        heap.Update(a);
        b.Timers.Add(new PendingTimer(50, seq++, ConnTimerKind.DnsExpire));    // 3, earlier
        heap.Update(b);

        var order = new List<(Connection, ConnTimerKind, uint)>();
        while (heap.Count > 0)
        {
            var (conn, t) = PopEarliest(heap);
            order.Add((conn, t.Kind, t.Seq));
        }
        Assert.Equal(new (Connection, ConnTimerKind, uint)[]
        {
            (b, ConnTimerKind.DnsExpire, 3), (a, ConnTimerKind.TcpExpire, 0), (b, ConnTimerKind.Inactivity, 1), (a, ConnTimerKind.TcpAttempt, 2),
        }, order);
        Assert.Equal(0, a.Timers.HeapSlot);
        Assert.Equal(0, b.Timers.HeapSlot);
    }

    [Fact]
    public void ArmingOrderSurvivesTheWrapOfTheArmingCounter()
    {
        var heap = new ConnTimerHeap();
        var a = NewConn(1);
        var b = NewConn(2);
        a.Timers.Add(new PendingTimer(100, uint.MaxValue, ConnTimerKind.TcpExpire)); // armed first
        heap.Update(a);
        b.Timers.Add(new PendingTimer(100, 0, ConnTimerKind.TcpExpire));             // armed next, counter wrapped
        heap.Update(b);
        Assert.Same(a, PopEarliest(heap).conn);
        Assert.Same(b, PopEarliest(heap).conn);
    }

    [Fact]
    public void RandomArmsCancelsAndRemovalsMatchOneQueueOfAllTimers()
    {
        var rng = new Random(7);
        var heap = new ConnTimerHeap();
        var conns = Enumerable.Range(0, 200).Select(NewConn).ToArray();
        // The reference: every pending timer in one list.
        var all = new List<(long time, uint seq, Connection conn, ConnTimerKind kind)>();
        uint seq = 0;
        var popped = new List<(long, uint)>();
        var expected = new List<(long, uint)>();
        for (int step = 0; step < 20_000; step++)
        {
            var conn = conns[rng.Next(conns.Length)];
            int op = rng.Next(10);
            if (op < 5)
            {
                var kind = (ConnTimerKind)rng.Next(5);
                long time = rng.Next(1000); // many ties
                conn.Timers.Add(new PendingTimer(time, seq, kind));
                all.Add((time, seq, conn, kind));
                seq++;
                heap.Update(conn);
            }
            else if (op < 7)
            {
                int kinds = 1 << rng.Next(5) | 1 << rng.Next(5);
                conn.Timers.Cancel(kinds);
                all.RemoveAll(t => t.conn == conn && (kinds & (1 << (int)t.kind)) != 0);
                heap.Update(conn);
            }
            else if (op < 8)
            {
                heap.Remove(conn);
                conn.Timers.Clear();
                all.RemoveAll(t => t.conn == conn);
            }
            else if (heap.Count > 0)
            {
                var best = all.OrderBy(t => t.time).ThenBy(t => t.seq).First();
                all.Remove(best);
                expected.Add((best.time, best.seq));
                var (_, timer) = PopEarliest(heap);
                popped.Add((timer.Time, timer.Seq));
            }
            Assert.Equal(all.Select(t => t.conn).Distinct().Count(), heap.Count);
        }
        Assert.True(popped.Count > 1000);
        Assert.Equal(expected, popped);
    }

    [Fact]
    public void MoreTimersThanFitInlineAreKept()
    {
        var conn = NewConn(1);
        for (uint i = 0; i < 7; i++)
            conn.Timers.Add(new PendingTimer(70 - i * 10, i, ConnTimerKind.TcpExpire));
        Assert.Equal(7, conn.Timers.Count);
        var times = new List<long>();
        while (conn.Timers.TryGetEarliest(out int index, out _, out _))
            times.Add(conn.Timers.RemoveAt(index).Time);
        Assert.Equal(new long[] { 10, 20, 30, 40, 50, 60, 70 }, times);
        Assert.Equal(0, conn.Timers.Count);
    }
}

using System.Runtime.CompilerServices;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Tracking;
using Xunit;
using static ConnTrack.Engine.Tests.Tracking.Pkt;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// A removed connection leaves nothing behind in the timers (Zeek cancels a connection's timers when it is
/// removed), so memory follows the open connections over a long capture whose connections come and go.
/// </summary>
public class TimerRetentionTests
{
    private const uint C0 = TcpScript.ClientIsn, S0 = TcpScript.ServerIsn;
    private const long Second = 1000;

    private static PacketSummary[] ClosedTcp(long ms, ushort clientPort)
    {
        PacketSummary C(long t, TcpFlags f, uint seq, uint ack) => Tcp(ms + t, "10.0.0.1", clientPort, "10.0.0.2", 80, f, seq, ack);
        PacketSummary S(long t, TcpFlags f, uint seq, uint ack) => Tcp(ms + t, "10.0.0.2", 80, "10.0.0.1", clientPort, f, seq, ack);
        return
        [
            C(0, Syn, C0, 0), S(1, SynAck, S0, C0 + 1), C(2, Ack, C0 + 1, S0 + 1),
            C(3, FinAck, C0 + 1, S0 + 1), S(4, FinAck, S0 + 1, C0 + 2), C(5, Ack, C0 + 2, S0 + 2),
        ];
    }

    [Fact]
    public void AClosedTcpConnectionLeavesNoTimerBehind()
    {
        var tracker = NewTracker(out var sink);
        foreach (var p in ClosedTcp(0, 40000))
            tracker.Process(p);
        // Pending: the 5-minute inactivity timer, the expire timers, the close-delete timer.
        Assert.Equal(1, tracker.PendingTimerConnections);

        tracker.AdvanceTime(At(6 * Second)); // tcp_close_delay (5 s) after the last packet
        var rec = Assert.Single(sink.Records);
        Assert.Equal("SF", rec.ConnState);
        Assert.Equal(0, tracker.OpenConnections);
        Assert.Equal(0, tracker.PendingTimerConnections);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference TrackClosedConnection(ConnTracker tracker, ushort clientPort)
    {
        var packets = ClosedTcp(0, clientPort);
        foreach (var p in packets)
            tracker.Process(p);
        int hint = tracker.PrefetchConnection(packets[0]);
        Assert.NotEqual(0, hint);
        // A closed connection has a cold part (its FIN sequences): the one object of its own.
        var cold = tracker[hint - 1].Cold;
        Assert.NotNull(cold);
        return new WeakReference(cold);
    }

    [Fact]
    public void ARemovedConnectionIsNotReachableFromTheTracker()
    {
        var tracker = NewTracker(out var sink);
        var weak = TrackClosedConnection(tracker, 40000);
        tracker.AdvanceTime(At(6 * Second));
        Assert.Single(sink.Records);
        Assert.Equal(0, tracker.PrefetchConnection(ClosedTcp(0, 40000)[0]));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(weak.IsAlive);
        GC.KeepAlive(tracker);
    }

    [Fact]
    public void ReuseOfATupleCancelsTheOldConnectionsTimers()
    {
        var tracker = NewTracker(out var sink);
        foreach (var p in ClosedTcp(0, 40000))
            tracker.Process(p);
        // A new SYN on the same tuple 1 s later: the closed connection ends now (reuse), a new one starts.
        tracker.Process(Tcp(1 * Second, "10.0.0.1", 40000, "10.0.0.2", 80, Syn, C0 + 100_000, 0));
        Assert.Single(sink.Records);
        Assert.Equal(1, tracker.OpenConnections);
        Assert.Equal(1, tracker.PendingTimerConnections);

        // The new attempt ends at its own timers (attempt after 5 s), not the old connection's.
        tracker.AdvanceTime(At(6 * Second + 500));
        Assert.Equal(2, sink.Records.Count);
        Assert.Equal("S0", sink.Records[1].ConnState);
        Assert.Equal(0, tracker.PendingTimerConnections);
    }

    [Fact]
    public void TimersFollowTheOpenConnectionsOverAStreamOfShortConnections()
    {
        var tracker = NewTracker(out var sink);
        int peakPending = 0;
        // 20,000 closed TCP connections, one every 10 ms (200 s of trace): each ends 5 s after its close, so
        // about 500 are open at once; their 5-minute inactivity timers must not keep the finished ones.
        for (int i = 0; i < 20_000; i++)
        {
            foreach (var p in ClosedTcp(i * 10L, (ushort)(1024 + i % 60_000)))
                tracker.Process(p);
            peakPending = Math.Max(peakPending, tracker.PendingTimerConnections);
            Assert.Equal(tracker.OpenConnections, tracker.PendingTimerConnections);
        }
        Assert.InRange(peakPending, 400, 600);
        Assert.InRange(sink.Records.Count, 19_400, 19_600);
        Assert.All(sink.Records, r => Assert.Equal("SF", r.ConnState));
    }
}

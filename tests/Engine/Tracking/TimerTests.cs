using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Records;
using Xunit;
using static ConnTrack.Engine.Tests.Tracking.Pkt;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// Connection timers on packet time (Zeek's init-bare.zeek defaults): the clock moves only with packet
/// timestamps and <see cref="Engine.Tracking.ConnTracker.AdvanceTime"/>, so every test controls it exactly.
/// </summary>
public class TimerTests
{
    private const uint C0 = TcpScript.ClientIsn, S0 = TcpScript.ServerIsn;
    private const long Second = 1000, Minute = 60 * Second;

    private static PacketSummary UdpOut(long ms, ushort srcPort = 40000) => Udp(ms, "10.0.0.1", srcPort, "10.0.0.2", 9999, 20);

    [Fact]
    public void UdpEndsAfterSixtySecondsOfSilenceAndTheTupleStartsANewConnection()
    {
        var tracker = NewTracker(out var sink);
        tracker.Process(UdpOut(0));
        tracker.Process(UdpOut(1 * Second));

        tracker.AdvanceTime(At(60 * Second + 900)); // 59.9 s after the last packet
        Assert.Empty(sink.Records);
        Assert.Equal(1, tracker.OpenConnections);

        tracker.AdvanceTime(At(61 * Second + 100)); // 60.1 s after it
        var first = Assert.Single(sink.Records);
        Assert.Equal(0, tracker.OpenConnections);
        Assert.Equal(At(0), first.Ts);
        Assert.Equal(1000 * NsPerMs, first.Duration);
        Assert.Equal(2UL, first.OrigPkts);
        Assert.Equal("S0", first.ConnState);

        tracker.Process(UdpOut(62 * Second));
        tracker.FlushAll();
        Assert.Equal(2, sink.Records.Count);
        var second = sink.Records[1];
        Assert.Equal(At(62 * Second), second.Ts);
        Assert.Equal(1UL, second.OrigPkts);
        Assert.Null(second.Duration);
        Assert.NotEqual(first.Uid, second.Uid);
    }

    [Fact]
    public void APacketAfterTheTimeoutExpiresTheOldConnectionBeforeItIsTracked()
    {
        var tracker = NewTracker(out var sink);
        tracker.Process(UdpOut(0));
        tracker.Process(Udp(30 * Second, "10.0.0.2", 9999, "10.0.0.1", 40000, 50)); // keeps it alive
        tracker.Process(UdpOut(89 * Second));                                      // 59 s later: same connection
        Assert.Empty(sink.Records);
        tracker.Process(UdpOut(150 * Second));                                     // 61 s later: a new one
        var old = Assert.Single(sink.Records);
        Assert.Equal("SF", old.ConnState);
        Assert.Equal(2UL, old.OrigPkts);
        Assert.Equal(89 * Second * NsPerMs, old.Duration);
        tracker.FlushAll();
        Assert.Equal(At(150 * Second), sink.Records[1].Ts);
    }

    [Fact]
    public void UnansweredSynIsRemovedByTheAttemptTimerAfterFiveSeconds()
    {
        var tracker = NewTracker(out var sink);
        tracker.Process(Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0));
        tracker.AdvanceTime(At(4900));
        Assert.Empty(sink.Records);
        tracker.AdvanceTime(At(5100));
        var r = Assert.Single(sink.Records);
        Assert.Equal("S0", r.ConnState);
        Assert.Equal("S", r.History);
        Assert.Equal(0, tracker.OpenConnections);
    }

    [Fact]
    public void AnsweredSynIsKeptUntilTheTcpInactivityTimeout()
    {
        var tracker = NewTracker(out var sink);
        tracker.Process(Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0));
        tracker.Process(Tcp(100, "10.0.0.2", 8000, "10.0.0.1", 40000, SynAck, S0, C0 + 1));
        tracker.AdvanceTime(At(100 + 5 * Minute - 500));
        Assert.Empty(sink.Records);
        tracker.AdvanceTime(At(100 + 5 * Minute + 500));
        var r = Assert.Single(sink.Records);
        Assert.Equal("Sh", r.History);
        Assert.Equal("S1", r.ConnState);
    }

    [Fact]
    public void ClosedConnectionIsRemovedTcpCloseDelayAfterItsLastActivity()
    {
        var tracker = NewTracker(out var sink);
        foreach (var p in ClosedExchange())
            tracker.Process(p);
        // Last activity: the second FIN at 800 ms (the final ACK does not count once both sides closed).
        tracker.AdvanceTime(At(5700));
        Assert.Empty(sink.Records);
        Assert.Equal(1, tracker.OpenConnections);
        tracker.AdvanceTime(At(5900));
        var r = Assert.Single(sink.Records);
        Assert.Equal("SF", r.ConnState);
        Assert.Equal("ShADadFf", r.History);
        Assert.Equal(0, tracker.OpenConnections);
    }

    private static PacketSummary[] ClosedExchange(ushort serverPort = 8000) =>
        new TcpScript(serverPort).Handshake()
            .C(300, PshAck, C0 + 1, S0 + 1, len: 100)
            .S(400, Ack, S0 + 1, C0 + 101)
            .S(500, PshAck, S0 + 1, C0 + 101, len: 200)
            .C(600, Ack, C0 + 101, S0 + 201)
            .C(700, FinAck, C0 + 101, S0 + 201)
            .S(800, FinAck, S0 + 201, C0 + 102)
            .C(900, Ack, C0 + 102, S0 + 202).ToArray();

    [Fact]
    public void NewSynAfterCloseStartsASecondConnection()
    {
        var tracker = NewTracker(out var sink);
        foreach (var p in ClosedExchange())
            tracker.Process(p);
        tracker.Process(Tcp(2000, TcpScript.Client, TcpScript.ClientPort, TcpScript.Server, 8000, Syn, 9000, 0));
        var first = Assert.Single(sink.Records); // the reuse ends the old connection at once
        Assert.Equal("ShADadFf", first.History);
        Assert.Equal("SF", first.ConnState);

        tracker.FlushAll();
        Assert.Equal(2, sink.Records.Count);
        var second = sink.Records[1];
        Assert.Equal(At(2000), second.Ts);
        Assert.Equal("S", second.History);
        Assert.Equal("S0", second.ConnState);
        Assert.Equal(1UL, second.OrigPkts);
        Assert.NotEqual(first.Uid, second.Uid);
    }

    [Fact]
    public void NewIsnOnAnOpenConnectionIsAReuseButTheSameIsnIsNot()
    {
        var same = Run(new TcpScript().Handshake().C(300, Syn, C0, 0).ToArray());
        Assert.Equal("ShA", Assert.Single(same).History);

        var reused = Run(new TcpScript().Handshake().C(300, Syn, C0 + 77777, 0).ToArray());
        Assert.Equal(2, reused.Count);
        Assert.Equal("ShA", reused[0].History);
        Assert.Equal("S1", reused[0].ConnState);
        Assert.Equal("S", reused[1].History);
        Assert.Equal(At(300), reused[1].Ts);
    }

    [Theory]
    [InlineData(22, 60)]     // port_inactivity_timeouts: ssh gets an hour once established
    [InlineData(23, 60)]
    [InlineData(8000, 5)]    // everything else: tcp_inactivity_timeout
    [InlineData(80, 5)]
    public void InactivityTimeoutDependsOnTheResponderPort(int port, int minutes)
    {
        var tracker = NewTracker(out var sink);
        foreach (var p in new TcpScript((ushort)port).Handshake().ToArray())
            tracker.Process(p);
        long last = 200;
        tracker.AdvanceTime(At(last + minutes * Minute - Second));
        Assert.Empty(sink.Records);
        tracker.AdvanceTime(At(last + minutes * Minute + Second));
        var r = Assert.Single(sink.Records);
        Assert.Equal("ShA", r.History);
        Assert.Equal("S1", r.ConnState);
        Assert.Equal((ushort)port, r.RespP);
    }

    [Fact]
    public void PortInactivityTimeoutsCanBeConfigured()
    {
        var options = new ConnTrackOptions();
        options.PortInactivityTimeouts[new PortSpec(8000, TransportProto.Tcp)] = TimeSpan.FromSeconds(30);
        var tracker = NewTracker(out var sink, options);
        foreach (var p in new TcpScript(8000).Handshake().ToArray())
            tracker.Process(p);
        tracker.AdvanceTime(At(200 + 29 * Second));
        Assert.Empty(sink.Records);
        tracker.AdvanceTime(At(200 + 31 * Second));
        Assert.Single(sink.Records);
    }

    [Fact]
    public void MaxTimerExpiresLimitsTimersPerAdvance()
    {
        var tracker = NewTracker(out var sink, new ConnTrackOptions { MaxTimerExpires = 2 });
        for (int i = 0; i < 5; i++)
            tracker.Process(UdpOut(i, (ushort)(40000 + i)));
        Assert.Equal(5, tracker.OpenConnections);

        tracker.AdvanceTime(At(100 * Second));
        Assert.Equal(2, sink.Records.Count);
        tracker.AdvanceTime(At(100 * Second));
        Assert.Equal(4, sink.Records.Count);
        tracker.AdvanceTime(At(100 * Second));
        Assert.Equal(5, sink.Records.Count);
        // Timers expire in time order: the oldest connections go first.
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (ushort)(40000 + i)), sink.Records.Select(r => r.OrigP));
    }

    [Fact]
    public void MaxTimerExpiresZeroMeansNoLimit()
    {
        var tracker = NewTracker(out var sink, new ConnTrackOptions { MaxTimerExpires = 0 });
        for (int i = 0; i < 5; i++)
            tracker.Process(UdpOut(i, (ushort)(40000 + i)));
        tracker.AdvanceTime(At(100 * Second));
        Assert.Equal(5, sink.Records.Count);
        Assert.Equal(0, tracker.OpenConnections);
    }

    [Fact]
    public void ChangedUdpInactivityTimeoutIsHonoured()
    {
        var tracker = NewTracker(out var sink, new ConnTrackOptions { UdpInactivityTimeout = TimeSpan.FromSeconds(10) });
        tracker.Process(UdpOut(0));
        tracker.AdvanceTime(At(9900));
        Assert.Empty(sink.Records);
        tracker.AdvanceTime(At(10100));
        Assert.Single(sink.Records);
    }

    [Fact]
    public void ChangedTcpTimeoutsAreHonoured()
    {
        var options = new ConnTrackOptions
        {
            TcpInactivityTimeout = TimeSpan.FromSeconds(30),
            TcpCloseDelay = TimeSpan.FromSeconds(1),
            TcpAttemptDelay = TimeSpan.FromSeconds(2),
            TcpSynTimeout = TimeSpan.FromSeconds(2),
        };

        var established = NewTracker(out var sink1, options);
        foreach (var p in new TcpScript().Handshake().ToArray())
            established.Process(p);
        established.AdvanceTime(At(200 + 29 * Second));
        Assert.Empty(sink1.Records);
        established.AdvanceTime(At(200 + 31 * Second));
        Assert.Single(sink1.Records);

        var closed = NewTracker(out var sink2, options);
        foreach (var p in ClosedExchange())
            closed.Process(p);
        closed.AdvanceTime(At(1700));
        Assert.Empty(sink2.Records);
        closed.AdvanceTime(At(1900));
        Assert.Equal("SF", Assert.Single(sink2.Records).ConnState);

        var attempt = NewTracker(out var sink3, options);
        attempt.Process(Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0));
        attempt.AdvanceTime(At(1900));
        Assert.Empty(sink3.Records);
        attempt.AdvanceTime(At(2100));
        Assert.Equal("S0", Assert.Single(sink3.Records).ConnState);
    }

    [Fact]
    public void TimeNeverGoesBackwards()
    {
        var tracker = NewTracker(out var sink);
        tracker.Process(UdpOut(0));
        tracker.AdvanceTime(At(70 * Second));
        Assert.Single(sink.Records);
        // An earlier time is ignored: the clock stays at 70 s, so a connection started now is judged from there.
        tracker.AdvanceTime(At(10 * Second));
        tracker.Process(UdpOut(70 * Second, 40001));
        tracker.AdvanceTime(At(129 * Second));
        Assert.Single(sink.Records);
        tracker.AdvanceTime(At(131 * Second));
        Assert.Equal(2, sink.Records.Count);
    }

    [Fact]
    public void FlushAllEndsEveryOpenConnectionInStartOrder()
    {
        var tracker = NewTracker(out var sink);
        tracker.Process(UdpOut(20, 40002));
        tracker.Process(Tcp(10, "10.0.0.1", 40001, "10.0.0.2", 8000, Syn, C0, 0));
        tracker.Process(Icmp(30, "10.0.0.1", "10.0.0.2", 8, 0, 56));
        Assert.Equal(3, tracker.OpenConnections);
        tracker.FlushAll();
        Assert.Equal(0, tracker.OpenConnections);
        // Ordered by each connection's ts (the TCP one started at 10 ms), not by arrival.
        Assert.Equal(new[] { TransportProto.Tcp, TransportProto.Udp, TransportProto.Icmp }, sink.Records.Select(r => r.Proto));
        Assert.Equal(3, sink.Records.Select(r => r.Uid).Distinct().Count());
    }

    [Fact]
    public void EstablishedDataPacketsDoNotAllocate()
    {
        const int Warmup = 2000, Measured = 10_000, Rounds = 3;
        var tracker = NewTracker(out var sink);
        foreach (var p in new TcpScript().Handshake().ToArray())
            tracker.Process(p);

        // Built up front: building a summary parses address strings, which allocates.
        var packets = new PacketSummary[Warmup + Rounds * Measured];
        uint seq = C0 + 1;
        for (int i = 0; i < packets.Length; i++)
        {
            PacketSummary p;
            if (i % 2 == 0)
            {
                p = Tcp(0, TcpScript.Client, TcpScript.ClientPort, TcpScript.Server, 8000, PshAck, seq, S0 + 1, len: 1000);
                seq += 1000;
            }
            else
                p = Tcp(0, TcpScript.Server, 8000, TcpScript.Client, TcpScript.ClientPort, Ack, S0 + 1, seq);
            p.Timestamp = At(300) + i * 100_000L; // 100 µs apart: 3.2 s in all, no timeout comes due
            packets[i] = p;
        }

        for (int i = 0; i < Warmup; i++)
            tracker.Process(packets[i]);

        long allocated = AllocationMeter.FewestBytes(Rounds, round =>
        {
            for (int i = Warmup + round * Measured; i < Warmup + (round + 1) * Measured; i++)
                tracker.Process(packets[i]);
        });

        Assert.True(allocated < Measured / 10, $"{allocated} bytes allocated over {Measured} packets (the fewest of {Rounds} rounds)");
        tracker.FlushAll();
        var r = Assert.Single(sink.Records);
        Assert.Equal((ulong)packets.Length / 2 * 1000, r.OrigBytes);
        Assert.Equal("ShADa", r.History);
    }
}

using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Tracking;
using Xunit;
using static ConnTrack.Engine.Tests.Tracking.Pkt;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// <see cref="ConnTracker.PrefetchConnections"/>: the batched lookup ahead of processing finds candidates by hash
/// alone; the hints it gives must never send a packet to another connection.
/// </summary>
public class LookAheadTests
{
    [Fact]
    public void BatchedHintsEqualOneByOneLookups()
    {
        var tracker = NewTracker(out _);
        var packets = new PacketSummary[20];
        for (int i = 0; i < packets.Length; i++)
            packets[i] = Udp(i, $"10.0.1.{i + 1}", (ushort)(5000 + i), "10.0.0.2", 53, 30);
        // Every other tuple has a connection; the rest are unknown.
        for (int i = 0; i < packets.Length; i += 2)
            tracker.Process(packets[i]);
        int[] which = [19, 0, 3, 2, 18, 7, 6, 11, 10, 1];
        var hints = new int[which.Length];
        tracker.PrefetchConnections(packets, which, hints);
        for (int i = 0; i < which.Length; i++)
        {
            Assert.Equal(tracker.PrefetchConnection(packets[which[i]]), hints[i]);
            Assert.Equal(which[i] % 2 == 0, hints[i] != 0);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // tracked with the key the look-ahead worked out
    public void AHintToAnotherKeyWithTheSameHashIsCheckedAndIgnored(bool keyWorkedOutAhead)
    {
        var (a, b) = TwoUdpTuplesWithOneHash();
        var tracker = NewTracker(out var sink);
        tracker.Process(a);
        var hints = new int[1];
        tracker.PrefetchConnections([b], [0], hints);
        Assert.Equal(tracker.PrefetchConnection(a), hints[0]); // found by hash alone: a's connection

        if (keyWorkedOutAhead)
            tracker.ProcessLookedAhead(b, 0, hints[0]);
        else
            tracker.Process(b, hints[0]);
        Assert.Equal(2, tracker.OpenConnections);
        tracker.FlushAll();
        Assert.Equal(2, sink.Records.Count);
        Assert.All(sink.Records, r => Assert.Equal(1UL, r.OrigPkts));
        Assert.Equal([a.Src, b.Src], sink.Records.Select(r => r.OrigH));
    }

    [Fact]
    public void PacketsTrackedWithTheKeysWorkedOutAheadGiveTheRecordsOfOneByOneTracking()
    {
        // One window in which packets open connections that later packets of the same window belong to (a reply,
        // a handshake, an ICMP echo and its reply), and a TCP port reused after a reset.
        const uint C = 100, S = 900;
        PacketSummary[] packets =
        [
            Udp(0, "10.0.1.1", 5000, "10.0.0.2", 53, 30),
            Tcp(1, "10.0.1.1", 40000, "10.0.0.2", 80, TcpFlags.Syn, C, 0),
            Udp(2, "10.0.0.2", 53, "10.0.1.1", 5000, 60),
            Tcp(3, "10.0.0.2", 80, "10.0.1.1", 40000, TcpFlags.Syn | TcpFlags.Ack, S, C + 1),
            Icmp(4, "10.0.1.1", "10.0.0.2", 8, 0, 40),
            Tcp(5, "10.0.1.1", 40000, "10.0.0.2", 80, TcpFlags.Ack, C + 1, S + 1),
            Icmp(6, "10.0.0.2", "10.0.1.1", 0, 0, 40),
            Tcp(7, "10.0.1.1", 40000, "10.0.0.2", 80, TcpFlags.Rst, C + 1, 0),
            Tcp(8, "fd00::1", 40001, "fd00::2", 443, TcpFlags.Syn, C, 0),
            Tcp(9, "10.0.1.1", 40000, "10.0.0.2", 80, TcpFlags.Syn, C + 5000, 0), // the port again: a new connection
            Tcp(10, "fd00::2", 443, "fd00::1", 40001, TcpFlags.Rst | TcpFlags.Ack, 0, C + 1),
        ];
        var oneByOne = Run(packets);

        var tracker = NewTracker(out var sink);
        var which = Enumerable.Range(0, packets.Length).ToArray();
        var hints = new int[which.Length];
        tracker.PrefetchConnections(packets, which, hints);
        for (int i = 0; i < packets.Length; i++)
            tracker.ProcessLookedAhead(packets[i], i, hints[i]);
        tracker.FlushAll();

        Assert.Equal(5, oneByOne.Count);
        Assert.Equal(Rows(oneByOne), Rows(sink.Records));

        static IEnumerable<string> Rows(IEnumerable<ConnTrack.Engine.Records.ConnRecord> records) => records.Select(r =>
            $"{r.Uid} {r.OrigH}:{r.OrigP} {r.RespH}:{r.RespP} {r.Proto} {r.ConnState} {r.History} {r.OrigPkts} {r.RespPkts} {r.Duration}");
    }

    [Fact]
    public void MoreThanTheLookAheadAtOnceIsRefused()
    {
        var tracker = NewTracker(out _);
        var packets = new PacketSummary[ConnTracker.LookAheadMax + 1];
        var which = Enumerable.Range(0, packets.Length).ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => tracker.PrefetchConnections(packets, which, new int[which.Length]));
    }

    /// <summary>Two UDP packets of different tuples whose connection keys hash alike (found by search, 10.x.y.z:port to 10.0.0.2:53).</summary>
    private static (PacketSummary, PacketSummary) TwoUdpTuplesWithOneHash()
    {
        var dst = IPAddr128.Parse("10.0.0.2");
        var seen = new Dictionary<int, (IPAddr128 Src, ushort Port)>();
        for (uint host = 1; host < 1 << 22; host++)
        {
            var src = IPAddr128.FromIPv4(0x0A000000u | host << 2);
            ushort port = (ushort)(1024 + (host & 0x3FFF));
            int hash = FlowKey.Create(src, port, dst, 53, 17, true, 0, 0).GetHashCode();
            if (seen.TryGetValue(hash, out var other))
                return (Packet(other.Src, other.Port, 0), Packet(src, port, 1));
            seen[hash] = (src, port);
        }
        throw new InvalidOperationException("no two tuples with one hash found");

        PacketSummary Packet(IPAddr128 src, ushort port, long ms) =>
            Udp(ms, "0.0.0.0", port, "10.0.0.2", 53, 30) with { Src = src };
    }
}

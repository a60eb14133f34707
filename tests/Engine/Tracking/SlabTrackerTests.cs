using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using Xunit;
using static ConnTrack.Engine.Tests.Tracking.Pkt;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// The slab layout's moving parts seen through the tracker: link contexts (MACs, VLANs) held once and swapped on
/// flips, VLAN ids of a VLAN-aware key kept in the link context, slots reused, stale hints ignored.
/// </summary>
public class SlabTrackerTests
{
    private const ulong MacA = 0x0000_0A0A_0A0A_0A0A, MacB = 0x0000_0B0B_0B0B_0B0B;

    private static PacketSummary Tagged(PacketSummary p, ushort vlan, ulong srcMac, ulong dstMac) =>
        p with { HasVlan = true, Vlan = vlan, HasMacs = true, SrcMac = srcMac, DstMac = dstMac };

    [Fact]
    public void AVlanAwareKeySeparatesTheSameTupleOnTwoVlansAndRecordsEachOnesIds()
    {
        var options = new ConnTrackOptions { VlanAwareConnKey = true };
        var records = Run(options,
            Tagged(Udp(0, "10.0.0.1", 5000, "10.0.0.2", 53, 30), 10, MacA, MacB),
            Tagged(Udp(1, "10.0.0.1", 5000, "10.0.0.2", 53, 30), 20, MacA, MacB),
            Tagged(Udp(2, "10.0.0.2", 53, "10.0.0.1", 5000, 60), 10, MacB, MacA),
            Tagged(Udp(3, "10.0.0.1", 5000, "10.0.0.2", 53, 30), 0, MacA, MacB));
        Assert.Equal(3, records.Count);
        var byVlan = records.ToDictionary(r => r.Vlan!.Value);
        Assert.Equal("Dd", byVlan[10].History);
        Assert.Equal(1UL, byVlan[10].RespPkts);
        Assert.Equal("D", byVlan[20].History);
        Assert.Equal("D", byVlan[0].History); // VLAN id 0 is a tag, told apart from "untagged"
    }

    [Fact]
    public void WithoutAVlanAwareKeyTheTupleIsOneConnectionWithTheFirstPacketsVlan()
    {
        var records = Run(new ConnTrackOptions(),
            Tagged(Udp(0, "10.0.0.1", 5000, "10.0.0.2", 53, 30), 10, MacA, MacB),
            Tagged(Udp(1, "10.0.0.1", 5000, "10.0.0.2", 53, 30), 20, MacA, MacB));
        var rec = Assert.Single(records);
        Assert.Equal((ushort)10, rec.Vlan);
        Assert.Null(rec.InnerVlan);
        Assert.Equal(2UL, rec.OrigPkts);
    }

    [Fact]
    public void TheLinkAddressesFollowAFlipOfRoles()
    {
        // The first packet comes from the DNS server's port: the roles flip, so the originator's MAC is the
        // first packet's destination MAC.
        var rec = Single(Tagged(Udp(0, "10.0.0.2", 53, "10.0.0.1", 5000, 60), 7, MacB, MacA));
        Assert.Equal("10.0.0.1", rec.OrigH.ToString());
        Assert.Equal(MacA, rec.OrigL2Addr);
        Assert.Equal(MacB, rec.RespL2Addr);
        Assert.Equal((ushort)7, rec.Vlan);
    }

    [Fact]
    public void LinkContextsAreHeldOnceWhileInUseAndSpillToTheColdPartWhenTheTableIsFull()
    {
        var links = new LinkContexts(capacity: 2);
        var a = new LinkContext(MacA, MacB, true, 0, 0, 0);
        var b = new LinkContext(MacB, MacA, true, 0, 0, 0);
        var c = new LinkContext(MacA, MacA, true, 5, 0, 0);
        Assert.Equal(0, links.Acquire(default));
        ushort idA = links.Acquire(a);
        Assert.Equal(idA, links.Acquire(a with { })); // two uses
        ushort idB = links.Acquire(b);
        Assert.NotEqual(idA, idB);
        Assert.Equal(2, links.Count);
        Assert.Equal(LinkContexts.InCold, links.Acquire(c));

        var conn = new Connection { Protocol = 17 };
        conn.SetLink(c, links);
        Assert.Equal(LinkContexts.InCold, conn.LinkId);
        Assert.Equal(c, conn.Link(links));
        conn.FlipRoles(links);
        Assert.Equal(c.Swapped, conn.Link(links));
        Assert.Equal((ushort)4, conn.Link(links).Vlan); // stored plus one

        // b's only use ends: its id is free for c.
        links.Release(idB);
        Assert.Equal(1, links.Count);
        ushort idC = links.Acquire(c);
        Assert.Equal(idB, idC);
        Assert.Equal(c, links[idC]);
        // a is still used once after one release.
        links.Release(idA);
        Assert.Equal(idA, links.Acquire(a));
        Assert.Equal(a, links[idA]);
    }

    [Fact]
    public void AnUnusedContextIsKeptUntilTheTableIsFullThenDroppedAndItsIdReused()
    {
        var links = new LinkContexts(capacity: 16);
        var ids = new List<ushort>();
        for (int i = 0; i < 16; i++)
            ids.Add(links.Acquire(new LinkContext(MacA + (ulong)i, MacB, true, 0, 0, 0)));
        Assert.Equal(16, ids.Distinct().Count());
        for (int i = 0; i < 8; i++)
            links.Release(ids[i]);
        Assert.Equal(8, links.Count);
        // A released context comes back with its id while it is kept.
        Assert.Equal(ids[3], links.Acquire(new LinkContext(MacA + 3, MacB, true, 0, 0, 0)));
        // A new one when full: the seven unused ones are dropped and an id of theirs reused.
        ushort fresh = links.Acquire(new LinkContext(MacA + 100, MacB, true, 0, 0, 0));
        Assert.Contains(fresh, ids.Take(8).Where(id => id != ids[3]));
        Assert.Equal(new LinkContext(MacA + 100, MacB, true, 0, 0, 0), links[fresh]);
        Assert.Equal(10, links.Count);
        // The ones in use kept their ids and contexts.
        for (int i = 8; i < 16; i++)
            Assert.Equal(ids[i], links.Acquire(new LinkContext(MacA + (ulong)i, MacB, true, 0, 0, 0)));
        Assert.Equal(new LinkContext(MacA + 3, MacB, true, 0, 0, 0), links[ids[3]]);
    }

    [Fact]
    public void AFlipMovesTheConnectionToTheSwappedContextAndGivesTheOldOneBack()
    {
        var links = new LinkContexts();
        var a = new LinkContext(MacA, MacB, true, 3, 0, 0);
        var conn = new Connection { Protocol = 17 };
        conn.SetLink(a, links);
        Assert.Equal(1, links.Count);
        conn.FlipRoles(links);
        Assert.Equal(a.Swapped, conn.Link(links));
        Assert.Equal(1, links.Count); // a is no longer used
        conn.ReleaseLink(links);
        Assert.Equal(0, links.Count);
    }

    [Fact]
    public void TheLinkTableFollowsTheOpenConnections()
    {
        var tracker = NewTracker(out var sink);
        for (int i = 0; i < 200; i++)
            tracker.Process(Tagged(Udp(i, $"10.0.{i >> 8}.{i & 255}", 5000, "10.9.9.9", 53, 30), 1, MacA + (ulong)i, MacB));
        Assert.Equal(200, tracker.Links.Count);
        tracker.AdvanceTime(At(200_000));
        Assert.Equal(200, sink.Records.Count);
        Assert.Equal(0, tracker.Links.Count);
        Assert.Equal(MacA + 7, sink.Records[7].OrigL2Addr);
    }

    [Fact]
    public void FreedSlotsAreReusedFirst()
    {
        var slab = new ConnectionSlab();
        int a = slab.Allocate(), b = slab.Allocate(), c = slab.Allocate();
        Assert.Equal((0, 1, 2), (a, b, c));
        slab[b].StartTime = 42;
        slab.Free(b);
        slab.Free(a);
        Assert.Equal(1, slab.Count);
        Assert.Equal(a, slab.Allocate());
        int again = slab.Allocate();
        Assert.Equal(b, again);
        Assert.Equal(0, slab[again].StartTime); // cleared
        Assert.Equal(ConnStatus.Free, slab[again].Status);
        Assert.Equal(3, slab.Count);
        // Past a chunk: refs into the first chunk stay valid while the slab grows.
        ref var first = ref slab[c];
        first.StartTime = 7;
        for (int i = 0; i < ConnectionSlab.ChunkSize * 2; i++)
            slab.Allocate();
        Assert.Equal(7, first.StartTime);
        Assert.Equal(7, slab[c].StartTime);
    }

    [Fact]
    public void AStaleHintToASlotReusedByAnotherConnectionIsIgnored()
    {
        var tracker = NewTracker(out var sink);
        var first = Udp(0, "10.0.0.1", 5000, "10.0.0.2", 53, 30);
        tracker.Process(first);
        int hint = tracker.PrefetchConnection(first);
        Assert.NotEqual(0, hint);
        // The UDP connection ends (a minute of silence); another one takes its slot.
        tracker.AdvanceTime(At(120_000));
        Assert.Single(sink.Records);
        var other = Udp(120_001, "10.0.0.3", 6000, "10.0.0.4", 123, 48);
        tracker.Process(other);
        Assert.Equal(hint, tracker.PrefetchConnection(other)); // the same slot

        // The old hint with the first tuple's packet: a new connection, not a packet of the other one.
        tracker.Process(Udp(120_002, "10.0.0.1", 5000, "10.0.0.2", 53, 30), hint);
        Assert.Equal(2, tracker.OpenConnections);
        tracker.FlushAll();
        Assert.Equal(3, sink.Records.Count);
        Assert.All(sink.Records, r => Assert.Equal(1UL, r.OrigPkts));
        Assert.Equal(["10.0.0.1", "10.0.0.3", "10.0.0.1"], sink.Records.Select(r => r.OrigH.ToString()));
    }

    [Fact]
    public void Ipv6AddressesAreHeldOnceAndGivenBackWithTheirConnections()
    {
        var tracker = NewTracker(out var sink);
        for (int i = 0; i < 100; i++)
            tracker.Process(Udp(i, $"2001:db8::{i + 1:x}", 5000, "2001:db8::ffff", 53, 30));
        Assert.Equal(101, tracker.Ipv6Addresses.Count); // 100 clients and the server, each once
        tracker.AdvanceTime(At(200_000));
        Assert.Equal(100, sink.Records.Count);
        Assert.Equal(0, tracker.Ipv6Addresses.Count);
        Assert.Equal("2001:db8::1", sink.Records[0].OrigH.ToString());
        Assert.Equal("2001:db8::ffff", sink.Records[0].RespH.ToString());
    }
    [Fact]
    public void OnlyDataCreatesTheColdPartAndOnlyAnomaliesTheRarePart()
    {
        const uint C = 1000, S = 5000;
        var tracker = NewTracker(out _);
        PacketSummary Cl(long t, TcpFlags f, uint seq, uint ack, int len = 0) => Tcp(t, "10.0.0.1", 40000, "10.0.0.2", 80, f, seq, ack, len);
        PacketSummary Sv(long t, TcpFlags f, uint seq, uint ack, int len = 0) => Tcp(t, "10.0.0.2", 80, "10.0.0.1", 40000, f, seq, ack, len);
        ref Connection Conn() => ref tracker[tracker.PrefetchConnection(Cl(0, Syn, C, 0)) - 1];

        tracker.Process(Cl(0, Syn, C, 0));
        tracker.Process(Sv(1, SynAck, S, C + 1));
        tracker.Process(Cl(2, Ack, C + 1, S + 1));
        Assert.Null(Conn().Cold); // handshake only: the slab entry is all there is

        tracker.Process(Cl(3, PshAck, C + 1, S + 1, 100));
        tracker.Process(Sv(4, PshAck, S + 1, C + 101, 300));
        tracker.Process(Cl(5, Ack, C + 101, S + 301));
        Assert.NotNull(Conn().Cold); // data: reassembly bookkeeping
        Assert.Null(Conn().Rare);
        Assert.Equal("ShADd", Conn().History);

        tracker.Process(Cl(6, PshAck, C + 1, S + 301, 100)); // a retransmission: a logarithmic counter
        Assert.NotNull(Conn().Rare);
        Assert.Equal("ShADdT", Conn().History);
    }
    [Fact]
    public void PacketsOfAnOpenConnectionAllocateNothing()
    {
        const uint C = 1000, S = 5000;
        var tracker = NewTracker(out _);
        PacketSummary Cl(long t, TcpFlags f, uint seq, uint ack, int len = 0) => Tcp(t, "10.0.0.1", 40000, "10.0.0.2", 80, f, seq, ack, len);
        var packets = new List<PacketSummary> { Cl(0, Syn, C, 0), Tcp(0, "10.0.0.2", 80, "10.0.0.1", 40000, SynAck, S, C + 1), Cl(2, Ack, C + 1, S + 1) };
        // Data both ways, each segment acked, for 2,000 rounds (the cold part is created by the first one).
        uint c = C + 1, s = S + 1;
        for (int i = 0; i < 2000; i++)
        {
            packets.Add(Cl(3 + 2 * i, PshAck, c, s, 100));
            c += 100;
            packets.Add(Tcp(4 + 2 * i, "10.0.0.2", 80, "10.0.0.1", 40000, PshAck, s, c, 200));
            s += 200;
        }
        var all = packets.ToArray();
        for (int i = 0; i < 10; i++) // warm up: JIT, cold part
            tracker.Process(all[i]);
        int perRound = (all.Length - 10) / 3;
        long allocated = AllocationMeter.FewestBytes(3, round =>
        {
            int end = round == 2 ? all.Length : 10 + (round + 1) * perRound;
            for (int i = 10 + round * perRound; i < end; i++)
                tracker.Process(all[i], tracker.PrefetchConnection(all[i]));
        });
        Assert.Equal(0, allocated);
        Assert.Equal(1, tracker.OpenConnections);
    }
    [Fact]
    public void InactivityTimeoutsBeyondTheTrackersIndexedOnesAreKeptExactly()
    {
        // 300 per-port timeouts, all distinct and all in use: more than a connection's one-byte index can name.
        var options = new ConnTrackOptions { MaxTimerExpires = 0 }; // every due timer at once: this is about the timeouts
        for (int i = 0; i < 300; i++)
            options.PortInactivityTimeouts[new PortSpec((ushort)(1000 + i), TransportProto.Tcp)] = TimeSpan.FromSeconds(10 + i);
        var tracker = NewTracker(out var sink, options);
        const uint C = 1000, S = 5000;
        for (int i = 0; i < 300; i++)
        {
            ushort port = (ushort)(1000 + i);
            tracker.Process(Tcp(0, "10.0.0.1", 40000, "10.0.0.2", port, Syn, C, 0));
            tracker.Process(Tcp(1, "10.0.0.2", port, "10.0.0.1", 40000, SynAck, S, C + 1));
            tracker.Process(Tcp(2, "10.0.0.1", 40000, "10.0.0.2", port, Ack, C + 1, S + 1));
        }
        // Each connection ends exactly its port's timeout after its last packet (2 ms), not a millisecond before.
        for (int i = 0; i < 300; i++)
        {
            long due = 2 + (10 + i) * 1000L;
            tracker.AdvanceTime(At(due - 1));
            Assert.Equal(i, sink.Records.Count);
            tracker.AdvanceTime(At(due));
            Assert.Equal(i + 1, sink.Records.Count);
            Assert.Equal(1000 + i, sink.Records[i].RespP);
        }
        Assert.All(sink.Records, r => Assert.Equal("S1", r.ConnState));
    }
    [Fact]
    public void UnusedIpv6AddressesAreDroppedOnceTheyOutnumberTheUsedOnesAndTheirIdsReused()
    {
        var store = new Ipv6AddrStore();
        static IPAddr128 Addr(int i) => new(0x2001_0db8_0000_0000UL, (ulong)i);
        var ids = Enumerable.Range(0, 3000).Select(i => store.Acquire(Addr(i))).ToArray();
        Assert.Equal(3000, ids.Distinct().Count());
        Assert.Equal(ids[7], store.Acquire(Addr(7))); // the same address, the same id (two uses)
        for (int i = 0; i < 3000; i++)
            store.Release(ids[i]);
        Assert.Equal(1, store.Count); // address 7 still has a use
        // A kept unused address comes back with its id until the unused ones are dropped...
        Assert.Equal(ids[8], store.Acquire(Addr(8)));
        // ...which a new address triggers now (2,998 unused against 2 used): ids are reused.
        int fresh = store.Acquire(Addr(5000));
        Assert.Contains(fresh, ids);
        Assert.Equal(Addr(5000), store[fresh]);
        Assert.Equal(Addr(7), store[ids[7]]);
        Assert.Equal(Addr(8), store[ids[8]]);
        Assert.Equal(ids[7], store.Acquire(Addr(7)));
        int nine = store.Acquire(Addr(9)); // dropped: comes back under some free id
        Assert.Equal(Addr(9), store[nine]);
        Assert.NotEqual(fresh, nine);
        Assert.Equal(4, store.Count);
    }
}

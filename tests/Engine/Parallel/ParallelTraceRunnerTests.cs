using ConnTrack.Conformance;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Parallel;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tests.Conformance;
using ConnTrack.Engine.Tests.Decoding;
using Xunit;
using Xunit.Abstractions;

namespace ConnTrack.Engine.Tests.Parallel;

[Collection(ParallelRunnerCollection.Name)]
public sealed class ParallelTraceRunnerTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _dir;

    public ParallelTraceRunnerTests(ITestOutputHelper output)
    {
        _output = output;
        _dir = Path.Combine(Path.GetTempPath(), "conntrack-parallel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly Lazy<byte[]> Generated = new(() => TraceGenerator.Generate(seed: 7, connections: 3000));

    private string WriteTemp(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // (shards, batch size, ring size): the default shape, and odd small batches so batch boundaries and ring
    // wrap-around fall everywhere.
    public static IEnumerable<object[]> Shapes() =>
    [
        [2, ParallelTraceRunner.DefaultBatchSize, ParallelTraceRunner.DefaultRingSize],
        [3, 7, 2],
        [4, 64, 3],
        [8, 1, 2],
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GeneratedCapture_ParallelRecordsEqualSingleThreadRecords(int shards, int batchSize, int ringSize)
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        var options = new ConnTrackOptions();
        var single = RunnerComparison.RunSingle(options, [path]);
        var parallel = RunnerComparison.RunParallel(options, [path], shards, batchSize, ringSize);

        // The trace is not trivial: many records, and endings of every kind.
        Assert.True(single.Records.Count > 3000, $"only {single.Records.Count} records");
        var states = single.Records.Select(r => r.ConnState).ToHashSet();
        foreach (var s in new[] { "S0", "S1", "S2", "SF", "REJ", "RSTO", "RSTR", "OTH" })
            Assert.True(states.Contains(s), $"no {s} among {string.Join(",", states)}");

        Assert.Equal(single.PacketsRead, parallel.PacketsRead);
        Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
        Assert.Equal(single.Records.Count, parallel.Records.Count);
        // uids stay unique over the shards.
        Assert.Equal(parallel.Records.Count, parallel.Records.Select(r => r.Uid).Distinct().Count());
    }

    [Fact]
    public void GeneratedCapture_TimersThatFireWhileAShardGetsNoPacketsStillMatch()
    {
        // Tight timeouts make most connections end by a timer in the middle of the trace, at another shard's packet.
        string path = WriteTemp("gen.pcap", Generated.Value);
        var options = new ConnTrackOptions
        {
            UdpInactivityTimeout = TimeSpan.FromSeconds(2),
            IcmpInactivityTimeout = TimeSpan.FromSeconds(1),
            TcpInactivityTimeout = TimeSpan.FromSeconds(30),
            TcpAttemptDelay = TimeSpan.FromSeconds(1),
            MaxTimerExpires = 0,
        };
        var single = RunnerComparison.RunSingle(options, [path]);
        var parallel = RunnerComparison.RunParallel(options, [path], shards: 5, batchSize: 33, ringSize: 4);
        Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
        Assert.Equal(single.Records.Count, parallel.Records.Count);
    }

    [Fact]
    public void GeneratedCapture_TimestampsThatGoBackStillGiveTheSingleThreadRecords()
    {
        // A third of the packets are stamped up to 3 s before the one ahead of them (as merged or reordered captures are):
        // network time never goes back, so a shard must fire its timers at the latest time of any shard so far,
        // also while it only skims the other shards' packets.
        var ms = new MemoryStream();
        var rng = new Random(5);
        using (var reader = CaptureReader.Open(WriteTemp("gen.pcap", Generated.Value)))
        using (var w = new PcapWriter(ms, LinkType.Ethernet, leaveOpen: true))
        {
            long previous = 0;
            while (reader.TryReadNext(out var frame))
            {
                long ts = rng.Next(3) == 0 ? previous - rng.NextInt64(3_000_000_000L) : frame.Timestamp;
                w.WritePacket(frame.Data, ts, frame.OriginalLength);
                previous = frame.Timestamp;
            }
        }
        string path = WriteTemp("jittered.pcap", ms.ToArray());
        var options = new ConnTrackOptions
        {
            UdpInactivityTimeout = TimeSpan.FromSeconds(1),
            IcmpInactivityTimeout = TimeSpan.FromSeconds(1),
            TcpInactivityTimeout = TimeSpan.FromSeconds(5),
            TcpAttemptDelay = TimeSpan.FromMilliseconds(200),
            TcpCloseDelay = TimeSpan.FromMilliseconds(100),
        };
        var single = RunnerComparison.RunSingle(options, [path]);
        var parallel = RunnerComparison.RunParallel(options, [path], shards: 3, batchSize: 17, ringSize: 3);
        Assert.True(single.Records.Count > 3000, $"only {single.Records.Count} records");
        Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
        Assert.Equal(single.Records.Count, parallel.Records.Count);
    }

    [Fact]
    public void OneShard_GivesTheSingleThreadRecordsInTheSameOrderWithTheSameUids()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        var options = new ConnTrackOptions();
        var single = RunnerComparison.RunSingle(options, [path]);
        var parallel = RunnerComparison.RunParallel(options, [path], shards: 1, batchSize: 100, ringSize: 3);
        Assert.Equal(single.Records.Select(r => r.Uid + " " + RunnerComparison.Canon(r)),
                     parallel.Records.Select(r => r.Uid + " " + RunnerComparison.Canon(r)));
    }

    [Fact]
    public void ShardsUseTheirOwnUidSeeds()
    {
        ulong seed = new ConnTrackOptions().UidSeed;
        Assert.Equal(seed, ParallelTraceRunner.ShardUidSeed(seed, 0));
        var seeds = Enumerable.Range(0, 16).Select(i => ParallelTraceRunner.ShardUidSeed(seed, i)).ToList();
        Assert.Equal(16, seeds.Distinct().Count());
    }

    [Fact]
    public void RecordsComeOutWhileReading_NotOnlyAtTheEnd()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        // A ring shorter than the file (8 x 256 of its ~18k packets): the reader cannot run ahead of the workers
        // to the end, so records must come out as batches are done (the default ring holds more than this file).
        using var runner = new ParallelTraceRunner(new ConnTrackOptions(), shards: 2, batchSize: 256, ringSize: 8);
        long packetsAtFirstRecord = -1;
        int during = 0;
        foreach (var _ in runner.ReadFile(path))
        {
            if (packetsAtFirstRecord < 0) packetsAtFirstRecord = runner.PacketsRead;
            Assert.Equal(2, runner.RunningWorkers);
            during++;
        }
        long total = runner.PacketsRead;
        Assert.True(during > 1000, $"{during} records while reading");
        Assert.InRange(packetsAtFirstRecord, 1, total / 2);
    }

    [Fact]
    public void TwoFilesFormOneTrace_AsInTheSingleThreadRunner()
    {
        // Split the generated capture into two files at a packet boundary; connections span both.
        var frames = Capture.CaptureTestUtil.ReadAll(Generated.Value);
        int half = frames.Count / 2;
        string a = WriteTemp("a.pcap", Pcap(frames.Take(half)));
        string b = WriteTemp("b.pcap", Pcap(frames.Skip(half)));
        var options = new ConnTrackOptions();
        var single = RunnerComparison.RunSingle(options, [a, b]);
        var parallel = RunnerComparison.RunParallel(options, [a, b], shards: 3, batchSize: 50);
        Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
        Assert.Equal(frames.Count, parallel.PacketsRead);
    }

    [Fact]
    public void ErrorMidFile_SurfacesAfterEveryEarlierRecord_AndTheTraceGoesOn()
    {
        var bytes = Generated.Value;
        var frames = Capture.CaptureTestUtil.ReadAll(bytes);
        // Cut the file inside the record of a packet two thirds in.
        var cutAt = frames[frames.Count * 2 / 3];
        var truncated = bytes.AsSpan(0, (int)cutAt.Offset + 16 + 10).ToArray();
        string bad = WriteTemp("bad.pcap", truncated);
        string good = WriteTemp("good.pcap", Pcap(frames.Skip(frames.Count * 2 / 3 + 5)));

        // No cap on timers per packet, so records end at the very same packet in both runs (see MaxTimerExpiresAppliesPerShard).
        var options = new ConnTrackOptions { MaxTimerExpires = 0 };
        var single = RunnerComparison.RunSingle(options, [bad, good]);
        Assert.Single(single.Errors);

        using var runner = new ParallelTraceRunner(options, shards: 2, batchSize: 128);
        var before = new List<ConnRecord>();
        var error = Assert.Throws<CaptureFormatException>(() =>
        {
            foreach (var r in runner.ReadFile(bad))
                before.Add(r);
        });
        Assert.Equal(0, runner.RunningWorkers);
        Assert.Equal(single.Errors[0], $"after {before.Count} records: {error.Message}");
        Assert.True(before.Count > 500, $"{before.Count} records before the error");
        var singleBefore = single.Records.Take(before.Count).ToList();
        var diffBefore = RunnerComparison.Differences(singleBefore, before);
        Assert.True(diffBefore.Count == 0, string.Join("\n", diffBefore));

        // The trace goes on with the next file, with the connections still open.
        var rest = runner.ReadFile(good).ToList();
        rest.AddRange(runner.Finish());
        Assert.Empty(RunnerComparison.Differences(single.Records, before.Concat(rest)));
    }

    [Fact]
    public void EarlyDisposal_StopsTheWorkers_AndKeepsWhatWasRead()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        using var runner = new ParallelTraceRunner(new ConnTrackOptions(), shards: 2, batchSize: 64, ringSize: 4);
        var taken = new List<ConnRecord>();
        using (var e = runner.ReadFile(path).GetEnumerator())
        {
            for (int i = 0; i < 10 && e.MoveNext(); i++)
                taken.Add(e.Current);
            Assert.Equal(2, runner.RunningWorkers);
            Assert.NotNull(runner.CurrentReader);
        }
        Assert.Equal(10, taken.Count);
        Assert.Equal(0, runner.RunningWorkers);
        Assert.Null(runner.CurrentReader);
        long read = runner.PacketsRead;
        Assert.InRange(read, 1, 200_000);

        // Every packet read before the disposal was tracked: the same as a single-thread run over those packets.
        var frames = Capture.CaptureTestUtil.ReadAll(Generated.Value);
        string prefix = WriteTemp("prefix.pcap", Pcap(frames.Take((int)read)));
        var single = RunnerComparison.RunSingle(new ConnTrackOptions(), [prefix]);
        var all = taken.Concat(runner.TakeFinished()).Concat(runner.Finish()).ToList();
        Assert.Empty(RunnerComparison.Differences(single.Records, all));
        Assert.Equal(0, runner.RunningWorkers);
    }

    [Fact]
    public void Dispose_WithAnAbandonedEnumerator_StopsTheWorkers()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        var runner = new ParallelTraceRunner(new ConnTrackOptions(), shards: 3, batchSize: 16, ringSize: 2);
        var e = runner.ReadFile(path).GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.Equal(3, runner.RunningWorkers);
        runner.Dispose();
        Assert.Equal(0, runner.RunningWorkers);
        Assert.Throws<ObjectDisposedException>(() => runner.ReadFile(path).GetEnumerator().MoveNext());
    }

    [Fact]
    public void LiveFeed_ProcessFrameAdvanceTimeTakeFinished_MatchesTheSingleThreadRunner()
    {
        var frames = Capture.CaptureTestUtil.ReadAll(Generated.Value).Take(4000).ToList();
        var options = new ConnTrackOptions { MaxTimerExpires = 0 };
        using var single = new ConnTraceRunner(options);
        using var parallel = new ParallelTraceRunner(options, shards: 2, batchSize: 100);
        var a = new List<ConnRecord>();
        var b = new List<ConnRecord>();
        foreach (var f in frames)
        {
            var raw = new RawFrame(f.Data, f.Timestamp, f.OriginalLength, f.LinkType, f.Offset);
            single.ProcessFrame(raw);
            parallel.ProcessFrame(raw);
        }
        // A quiet wire: time moves on by ten minutes with no packet, and every UDP/ICMP/idle connection ends.
        long later = frames[^1].Timestamp + TimeSpan.FromMinutes(10).Ticks * 100;
        single.AdvanceTime(later);
        parallel.AdvanceTime(later);
        a.AddRange(single.TakeFinished());
        b.AddRange(parallel.TakeFinished());
        Assert.Equal(0, parallel.RunningWorkers);
        Assert.Empty(RunnerComparison.Differences(a, b));
        Assert.True(a.Count > 500);
        Assert.Equal(single.OpenConnections, parallel.OpenConnections);
        Assert.Empty(RunnerComparison.Differences(single.Finish(), parallel.Finish()));
    }

    [Fact]
    public void AShardGettingNoPackets_ExpiresItsConnectionsAtTheOtherShardsPacketTimes()
    {
        // Flow A (one UDP packet) and flow B (not DNS: that analyzer has its own 10 s timer) (a packet a second for three minutes) fall in different shards.
        const int shards = 2;
        ushort bPort = PortInTheOtherShard(shards);

        const long t0 = 1_700_000_000_000_000_000L, second = 1_000_000_000L;
        string path = WriteCapture("two.pcap", w =>
        {
            w.WritePacket(UdpFrame("10.0.0.1", "10.0.0.2", 1111, 9999), t0);
            for (int i = 1; i <= 180; i++)
                w.WritePacket(UdpFrame("10.0.0.3", "10.0.0.4", bPort, 9999), t0 + i * second);
        });

        // A's inactivity timer (60 s) fires at B's packet at t0+60s, in A's shard, which gets no packet then:
        // its record comes out while the file is read, as in the single-thread run, not at the end.
        using var single = new ConnTraceRunner(new ConnTrackOptions());
        var singleDuring = single.ReadFile(path).ToList();
        using var parallel = new ParallelTraceRunner(new ConnTrackOptions(), shards, batchSize: 4, ringSize: 2);
        var during = new List<(ConnRecord Record, long PacketsRead)>();
        foreach (var r in parallel.ReadFile(path))
            during.Add((r, parallel.PacketsRead));
        var record = Assert.Single(singleDuring);
        Assert.Equal(1111, record.OrigP);
        var (pr, packetsRead) = Assert.Single(during);
        Assert.Equal(RunnerComparison.Canon(record), RunnerComparison.Canon(pr));
        Assert.InRange(packetsRead, 62, 62 + 4 * 3); // within the ring's reach of the packet it expired at
        Assert.Equal(RunnerComparison.Canon(single.Finish().Single()), RunnerComparison.Canon(parallel.Finish().Single()));
    }

    [Fact]
    public void ConnectionsEndingInsideOneLookaheadWindow_StartAgainAsInTheSingleThreadRunner()
    {
        // Workers look their packets' connections up a window ahead; here a connection ends between its lookup
        // and its packet inside one window: A expires at another shard's packet, and a TCP flow is reset and its
        // four-tuple reused by a new SYN at once. Each must start a new connection, as the single-thread run does.
        const int shards = 2;
        ushort bPort = PortInTheOtherShard(shards);

        const long t0 = 1_700_000_000_000_000_000L, second = 1_000_000_000L, ms = 1_000_000L;
        var stream = new MemoryStream();
        using (var w = new PcapWriter(stream, LinkType.Ethernet, leaveOpen: true))
        {
            w.WritePacket(UdpFrame("10.0.0.1", "10.0.0.2", 1111, 9999), t0);
            w.WritePacket(UdpFrame("10.0.0.3", "10.0.0.4", bPort, 9999), t0 + 30 * second);
            // One window from here on: B's packet expires A (60 s inactivity) just before A's next packet.
            w.WritePacket(UdpFrame("10.0.0.3", "10.0.0.4", bPort, 9999), t0 + 61 * second);
            w.WritePacket(UdpFrame("10.0.0.1", "10.0.0.2", 1111, 9999), t0 + 61 * second + ms);
            w.WritePacket(TcpFrame(40000, 1000, 0, 0x02), t0 + 62 * second);                 // SYN
            w.WritePacket(TcpFrame(40000, 1001, 0, 0x04), t0 + 62 * second + ms);            // RST
            w.WritePacket(TcpFrame(40000, 5000, 0, 0x02), t0 + 62 * second + 2 * ms);        // SYN again
            w.WritePacket(TcpFrame(40000, 5000, 0, 0x02), t0 + 62 * second + 3 * ms);        // retransmitted
        }
        string path = WriteTemp("window.pcap", stream.ToArray());

        var options = new ConnTrackOptions();
        var single = RunnerComparison.RunSingle(options, [path]);
        Assert.Equal(2, single.Records.Count(r => r.OrigP == 1111));
        Assert.Equal(2, single.Records.Count(r => r.OrigP == 40000));
        foreach (int batchSize in new[] { ParallelTraceRunner.DefaultBatchSize, 3 })
        {
            var parallel = RunnerComparison.RunParallel(options, [path], shards, batchSize, ringSize: 2);
            Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
        }
    }

    private static byte[] TcpFrame(ushort sp, uint seq, uint ack, byte flags) =>
        PacketBuilder.Ethernet(0x0800, PacketBuilder.IPv4("10.0.1.1", "10.0.1.2", 6, PacketBuilder.Tcp("10.0.1.1", "10.0.1.2", sp, 80, seq, ack, flags, 8192)));

    /// <summary>Writes an Ethernet pcap file of the packets <paramref name="write"/> gives.</summary>
    private string WriteCapture(string name, Action<PcapWriter> write)
    {
        var stream = new MemoryStream();
        using (var w = new PcapWriter(stream, LinkType.Ethernet, leaveOpen: true))
            write(w);
        return WriteTemp(name, stream.ToArray());
    }

    /// <summary>
    /// A source port that puts UDP 10.0.0.3 -> 10.0.0.4:9999 in another shard than 10.0.0.1:1111 -> 10.0.0.2:9999
    /// (of <paramref name="shards"/>).
    /// </summary>
    private static ushort PortInTheOtherShard(int shards)
    {
        var a = new PacketSummary { Src = IPAddr128.Parse("10.0.0.1"), Dst = IPAddr128.Parse("10.0.0.2"), SrcPort = 1111, DstPort = 9999, Protocol = 17 };
        var b = new PacketSummary { Src = IPAddr128.Parse("10.0.0.3"), Dst = IPAddr128.Parse("10.0.0.4"), DstPort = 9999, Protocol = 17 };
        for (b.SrcPort = 2000; ShardHash.ShardOf(b, shards) == ShardHash.ShardOf(a, shards); b.SrcPort++) { }
        return b.SrcPort;
    }

    private static byte[] UdpFrame(string src, string dst, ushort sp, ushort dp) =>
        PacketBuilder.Ethernet(0x0800, PacketBuilder.IPv4(src, dst, 17, PacketBuilder.Udp(src, dst, sp, dp, PacketBuilder.Bytes(20))));

    [Fact]
    public void BatchesOfOneShardOnly_GrowThatShardsSummaries_AndGiveTheSingleThreadRecords()
    {
        // One busy UDP flow: every packet of a 1024-packet batch is one shard's, more than the room a batch keeps
        // per shard (a share and a quarter), so that shard's summaries grow; a second flow goes to the other shard.
        const int shards = 2;
        ushort otherPort = PortInTheOtherShard(shards);
        const long t0 = 1_700_000_000_000_000_000L, ms = 1_000_000L;
        string path = WriteCapture("skewed.pcap", w =>
        {
            for (int i = 0; i < 3000; i++)
            {
                w.WritePacket(UdpFrame("10.0.0.1", "10.0.0.2", 1111, 9999), t0 + i * ms);
                if (i % 1000 == 0)
                    w.WritePacket(UdpFrame("10.0.0.3", "10.0.0.4", otherPort, 9999), t0 + i * ms + 1);
            }
        });
        var options = new ConnTrackOptions();
        var single = RunnerComparison.RunSingle(options, [path]);
        var parallel = RunnerComparison.RunParallel(options, [path], shards, batchSize: 1024);
        Assert.Equal(2, single.Records.Count);
        Assert.Equal(3000UL, single.Records.Single(r => r.OrigP == 1111).OrigPkts);
        Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
    }

    [Fact]
    public void MaxTimerExpiresAppliesPerShard_TheDocumentedDifference()
    {
        // 400 UDP flows between distinct hosts, then a quiet wire: all 400 inactivity timers come due at once.
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, leaveOpen: true))
        {
            for (int i = 0; i < 400; i++)
            {
                var ip = PacketBuilder.IPv4($"10.1.{i / 200}.{i % 200 + 1}", "192.168.9.9", 17,
                    PacketBuilder.Udp($"10.1.{i / 200}.{i % 200 + 1}", "192.168.9.9", 5000, 53, PacketBuilder.Bytes(20)));
                w.WritePacket(PacketBuilder.Ethernet(0x0800, ip), 1_700_000_000_000_000_000L + i * 1000L);
            }
        }
        string path = WriteTemp("udp.pcap", ms.ToArray());
        long later = 1_700_000_000_000_000_000L + TimeSpan.FromMinutes(5).Ticks * 100;
        var options = new ConnTrackOptions { MaxTimerExpires = 300 };

        using var single = new ConnTraceRunner(options);
        Assert.Empty(single.ReadFile(path));
        single.AdvanceTime(later);
        Assert.Equal(300, single.TakeFinished().Count());

        using var parallel = new ParallelTraceRunner(options, shards: 2);
        Assert.Empty(parallel.ReadFile(path));
        parallel.AdvanceTime(later);
        // Each shard expires up to 300 at this time, so all 400 end now, against 300 in the single-thread run.
        Assert.Equal(400, parallel.TakeFinished().Count());
        Assert.Equal(100, single.Finish().Count());
        Assert.Empty(parallel.Finish());
    }

    [Fact]
    public void FrameByFrameWithTryTakeFinished_AsTheCmdletReads_MatchesTheSingleThreadRunner()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        var options = new ConnTrackOptions();
        var single = RunnerComparison.RunSingle(options, [path]);
        using var runner = new ParallelTraceRunner(options, shards: 2, batchSize: 128, ringSize: 16); // shorter than the file
        var records = new List<ConnRecord>();
        int takenWhileReading = 0;
        using (var reader = CaptureReader.Open(path))
        {
            while (reader.TryReadNext(out var frame))
            {
                runner.ProcessFrame(frame);
                while (runner.TryTakeFinished(out var r))
                {
                    records.Add(r);
                    takenWhileReading++;
                }
            }
        }
        Assert.True(takenWhileReading > 1000, $"{takenWhileReading} records taken while reading");
        records.AddRange(runner.Finish());
        Assert.Equal(0, runner.RunningWorkers);
        Assert.Equal(records.Count, runner.ConnectionsFinished);
        Assert.Empty(RunnerComparison.Differences(single.Records, records));
    }

    [Fact]
    public void FinishIsLazy_SoReadFileConcatFinishWorks()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        var single = RunnerComparison.RunSingle(new ConnTrackOptions(), [path]);
        using var runner = new ParallelTraceRunner(new ConnTrackOptions(), shards: 2);
        var all = runner.ReadFile(path).Concat(runner.Finish()).ToList();
        Assert.Empty(RunnerComparison.Differences(single.Records, all));
    }

    [Fact]
    public void Finish_FlushesEveryShardAtOnce_InStartOrder_AndLeavesNoThreadBehind()
    {
        // Many connections still open at the end (the generated trace cut in half), spread over 4 shards.
        var frames = Capture.CaptureTestUtil.ReadAll(Generated.Value);
        string path = WriteTemp("half.pcap", Pcap(frames.Take(frames.Count / 2)));
        var options = new ConnTrackOptions();
        using var single = new ConnTraceRunner(options);
        var singleRead = single.ReadFile(path).ToList();
        var singleFlushed = single.Finish().ToList();
        using var runner = new ParallelTraceRunner(options, shards: 4);
        var read = runner.ReadFile(path).ToList();
        int open = runner.OpenConnections;
        var flushed = runner.Finish().ToList();

        Assert.True(singleFlushed.Count > 100, $"only {singleFlushed.Count} connections open at the end");
        Assert.Equal(singleFlushed.Count, open);
        Assert.Equal(0, runner.OpenConnections);
        Assert.Empty(RunnerComparison.Differences(singleRead, read));
        Assert.Empty(RunnerComparison.Differences(singleFlushed, flushed));
        Assert.True(flushed.Zip(flushed.Skip(1)).All(p => p.First.Ts <= p.Second.Ts), "flushed records out of start order");
        Assert.Equal(0, runner.RunningWorkers);
        Assert.DoesNotContain(ThreadNames(), n => n.StartsWith("ConnTrack", StringComparison.Ordinal));
    }

    private static List<string> ThreadNames()
    {
        var names = new List<string>();
        if (!OperatingSystem.IsLinux()) return names;
        foreach (var dir in Directory.GetDirectories("/proc/self/task"))
        {
            try { names.Add(File.ReadAllText(Path.Combine(dir, "comm")).Trim()); }
            catch (IOException) { }
        }
        return names;
    }

    [Fact]
    public void ByDefault_OneShardPerCoreButTheReadersOne()
    {
        using var runner = new ParallelTraceRunner(new ConnTrackOptions());
        Assert.Equal(Math.Max(1, Environment.ProcessorCount - 1), runner.ShardCount);
    }

    [Fact]
    public void AWorkerFailing_SurfacesOnTheCallersThread_WithoutHanging()
    {
        // Every TCP port has a timeout of its own, looked up through a comparer that throws once armed: the tracker
        // throws at its first established TCP connection, in the worker thread.
        string path = WriteTemp("gen.pcap", Generated.Value);
        var comparer = new ThrowingPortComparer();
        var timeouts = new Dictionary<PortSpec, TimeSpan>(comparer);
        for (int port = 0; port <= ushort.MaxValue; port++)
            timeouts[new PortSpec((ushort)port, TransportProto.Tcp)] = TimeSpan.FromMinutes(5);
        var options = new ConnTrackOptions { PortInactivityTimeouts = timeouts };
        comparer.Armed = true;
        Assert.Throws<InvalidOperationException>(() => new ConnTraceRunner(options).ReadFile(path).ToList());

        using var runner = new ParallelTraceRunner(options, shards: 1, batchSize: 16, ringSize: 2);
        var run = Task.Run(() => Assert.Throws<InvalidOperationException>(() => runner.ReadFile(path).ToList()));
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), "ReadFile hung after a worker failed");
        Assert.Equal(0, runner.RunningWorkers);
        // The runner stays failed: its shards' state is unknown.
        Assert.Throws<InvalidOperationException>(() => runner.ReadFile(path).ToList());
    }

    private sealed class ThrowingPortComparer : IEqualityComparer<PortSpec>
    {
        public volatile bool Armed;
        public bool Equals(PortSpec a, PortSpec b) => a == b;
        public int GetHashCode(PortSpec p) => Armed ? throw new InvalidOperationException("a lookup failed in the tracker") : p.GetHashCode();
    }

    [Fact]
    public void CaptureFilter_IsAppliedByTheReader()
    {
        string path = WriteTemp("gen.pcap", Generated.Value);
        var options = new ConnTrackOptions { CaptureFilter = "udp or icmp" };
        ConnTrackOptions plain;
        TraceRun single;
        try
        {
            single = RunnerComparison.RunSingle(options, [path]);
        }
        catch (Exception e) when (e is CaptureFilterException or DllNotFoundException)
        {
            _output.WriteLine($"SKIPPED: no libpcap for BPF ({e.Message})");
            return;
        }
        plain = new ConnTrackOptions();
        var parallel = RunnerComparison.RunParallel(options, [path], shards: 2, batchSize: 200);
        Assert.Empty(RunnerComparison.Differences(single.Records, parallel.Records));
        Assert.All(parallel.Records, r => Assert.NotEqual(TransportProto.Tcp, r.Proto));
        Assert.True(RunnerComparison.RunSingle(plain, [path]).Records.Count > parallel.Records.Count);
    }

    [Fact]
    public void ConformanceCorpus_ParallelRecordsEqualSingleThreadRecords()
    {
        string? corpus = ConformanceCorpus.Locate();
        if (corpus is null)
        {
            Assert.False(ConformanceSuite.IsCi, "the conformance corpus is missing");
            _output.WriteLine("SKIPPED: no conformance corpus");
            return;
        }
        var failures = new List<string>();
        int runs = 0;

        // Every case with its own options (filters, VLAN keys, timer settings), its files as one trace.
        foreach (var c in ConformanceCase.Load(Path.Combine(corpus, ConformanceCorpus.CasesFileName)))
        {
            var files = c.Traces.Select(t => Path.Combine(corpus, t)).ToList();
            if (!files.All(File.Exists)) continue;
            Compare(c.Name, CaseOptionsMapper.ToEngineOptions(c), files, failures);
            runs++;
        }
        // And every trace file on its own with the default options.
        foreach (var file in Directory.GetFiles(Path.Combine(corpus, "traces"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            Compare(Path.GetFileName(file), new ConnTrackOptions(), [file], failures);
            runs++;
        }
        _output.WriteLine($"{runs} runs compared");
        Assert.True(runs > 40, $"only {runs} runs");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static void Compare(string name, ConnTrackOptions options, List<string> files, List<string> failures)
    {
        var single = RunnerComparison.RunSingle(options, files);
        foreach (var (shards, batch, ring) in new[] { (2, ParallelTraceRunner.DefaultBatchSize, ParallelTraceRunner.DefaultRingSize), (3, 5, 2) })
        {
            var parallel = RunnerComparison.RunParallel(options, files, shards, batch, ring);
            var diff = RunnerComparison.Differences(single.Records, parallel.Records);
            if (diff.Count > 0)
                failures.Add($"{name} ({shards} shards, batch {batch}): {diff.Count} differences, first {diff[0]}");
            // A file that ends in an error: the same error, after the same number of records.
            if (!single.Errors.SequenceEqual(parallel.Errors))
                failures.Add($"{name} ({shards} shards): errors [{string.Join("; ", single.Errors)}] vs [{string.Join("; ", parallel.Errors)}]");
        }
    }

    private static byte[] Pcap(IEnumerable<Capture.Frame> frames)
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, nanosecond: true, leaveOpen: true))
            foreach (var f in frames)
                w.WritePacket(f.Data, f.Timestamp, f.OriginalLength);
        return ms.ToArray();
    }
}

using System.Net;
using System.Net.NetworkInformation;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;
using PacketDotNet;
using Xunit;

namespace ConnTrack.Engine.Tests.Runner;

/// <summary>
/// ReadFile decodes a batch of packets ahead and prefetches their connections; the records must be exactly
/// those of feeding the same frames one at a time (same order, so the same uids too).
/// </summary>
public sealed class BatchedReadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conntrack-batch-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress MacB = PhysicalAddress.Parse("02-00-00-00-00-02");
    private const long T0 = 1_700_000_000_000_000_000L;

    private static byte[] Tcp(int client, ushort sport, bool fromClient, TcpFlags flags, uint seq, uint ack, int payload, bool badChecksum = false)
    {
        var c = IPAddress.Parse($"10.1.{client / 250}.{client % 250 + 1}");
        var s = IPAddress.Parse("10.9.0.1");
        var tcp = new TcpPacket(fromClient ? sport : (ushort)80, fromClient ? (ushort)80 : sport)
        {
            SequenceNumber = seq, AcknowledgmentNumber = ack, WindowSize = 512, PayloadData = new byte[payload],
            Flags = (ushort)flags,
        };
        var ip = new IPv4Packet(fromClient ? c : s, fromClient ? s : c) { PayloadPacket = tcp };
        tcp.UpdateTcpChecksum();
        if (badChecksum) tcp.Checksum ^= 0x5a5a;
        ip.UpdateIPChecksum();
        return new EthernetPacket(MacA, MacB, EthernetType.IPv4) { PayloadPacket = ip }.Bytes;
    }

    [Flags]
    private enum TcpFlags : ushort { Fin = 1, Syn = 2, Rst = 4, Psh = 8, Ack = 16 }

    /// <summary>Interleaved TCP connections of several shapes, some ending (close delay, attempt timer) mid-file.</summary>
    private string WriteCapture() => WriteCapture(_dir);

    /// <summary>The capture of <see cref="WriteCapture()"/> in <paramref name="dir"/>: 300 connections, most ending mid-file.</summary>
    internal static string WriteCapture(string dir)
    {
        var path = Path.Combine(dir, "mix.pcap");
        var rng = new Random(3);
        var packets = new List<(long t, byte[] frame)>();
        for (int i = 0; i < 300; i++)
        {
            long t = T0 + i * 40_000_000L;           // a new connection every 40 ms, over 12 s
            var sport = (ushort)(20000 + i);
            uint cs = (uint)rng.Next(), ss = (uint)rng.Next();
            int shape = i % 5;
            packets.Add((t, Tcp(i, sport, true, TcpFlags.Syn, cs, 0, 0)));
            if (shape == 4) continue;                 // unanswered: the attempt timer ends it
            if (shape == 3) { packets.Add((t + 1_000_000, Tcp(i, sport, false, TcpFlags.Rst | TcpFlags.Ack, 0, cs + 1, 0))); continue; }
            packets.Add((t + 1_000_000, Tcp(i, sport, false, TcpFlags.Syn | TcpFlags.Ack, ss, cs + 1, 0)));
            packets.Add((t + 2_000_000, Tcp(i, sport, true, TcpFlags.Ack, cs + 1, ss + 1, 0)));
            int req = 10 + i % 7, resp = 100 + i;
            packets.Add((t + 3_000_000, Tcp(i, sport, true, TcpFlags.Psh | TcpFlags.Ack, cs + 1, ss + 1, req, badChecksum: i % 11 == 0)));
            packets.Add((t + 900_000_000, Tcp(i, sport, false, TcpFlags.Psh | TcpFlags.Ack, ss + 1, cs + 1 + (uint)req, resp)));
            if (shape == 2) continue;                 // left open: flushed at the end
            packets.Add((t + 1_800_000_000, Tcp(i, sport, true, TcpFlags.Fin | TcpFlags.Ack, cs + 1 + (uint)req, ss + 1 + (uint)resp, 0)));
            packets.Add((t + 1_900_000_000, Tcp(i, sport, false, TcpFlags.Fin | TcpFlags.Ack, ss + 1 + (uint)resp, cs + 2 + (uint)req, 0)));
            packets.Add((t + 2_000_000_000, Tcp(i, sport, true, TcpFlags.Ack, cs + 2 + (uint)req, ss + 2 + (uint)resp, 0)));
        }
        packets.Sort((a, b) => a.t.CompareTo(b.t));
        using var fs = File.Create(path);
        using var w = new PcapWriter(fs, LinkType.Ethernet);
        foreach (var (t, frame) in packets)
            w.WritePacket(frame, t);
        return path;
    }

    internal static string Row(ConnRecord r) =>
        $"{r.Uid} {r.Ts} {r.OrigH}:{r.OrigP} {r.RespH}:{r.RespP} {r.Proto} {r.Duration} {r.OrigBytes} {r.RespBytes} " +
        $"{r.ConnState} {r.History} {r.MissedBytes} {r.OrigPkts} {r.OrigIpBytes} {r.RespPkts} {r.RespIpBytes}";

    [Fact]
    public void ReadFileGivesTheRecordsOfFeedingFramesOneByOne()
    {
        var path = WriteCapture();

        var batched = new ConnTraceRunner(new ConnTrackOptions());
        var viaReadFile = new List<string>();
        int beforeEnd = 0;
        foreach (var r in batched.ReadFile(path)) { viaReadFile.Add(Row(r)); beforeEnd++; }
        foreach (var r in batched.Finish()) viaReadFile.Add(Row(r));

        var single = new ConnTraceRunner(new ConnTrackOptions());
        var oneByOne = new List<string>();
        using (var reader = CaptureReader.Open(path))
        {
            while (reader.TryReadNext(out var frame))
            {
                single.ProcessFrame(frame);
                foreach (var r in single.TakeFinished()) oneByOne.Add(Row(r));
            }
        }
        foreach (var r in single.Finish()) oneByOne.Add(Row(r));

        Assert.Equal(300, viaReadFile.Count);
        Assert.True(beforeEnd > 100, $"only {beforeEnd} records before the end of the file");
        Assert.Equal(oneByOne, viaReadFile);
        Assert.Equal(single.PacketsRead, batched.PacketsRead);
        Assert.Contains(viaReadFile, row => row.Contains(" SF ShADdFf "));
        Assert.Contains(viaReadFile, row => row.Contains(" REJ Sr "));
        Assert.Contains(viaReadFile, row => row.Contains(" S0 S "));
    }

    [Fact]
    public void ProcessNextBatchGivesTheRecordsOfReadFile()
    {
        var path = WriteCapture();
        var viaReadFile = new ConnTraceRunner(new ConnTrackOptions()).ReadFile(path).Select(Row).ToList();

        var runner = new ConnTraceRunner(new ConnTrackOptions());
        var viaBatches = new List<string>();
        using (var reader = CaptureReader.Open(path))
        {
            bool more;
            do
            {
                more = runner.ProcessNextBatch(reader);
                while (runner.TryTakeFinished(out var r)) viaBatches.Add(Row(r));
            } while (more);
        }
        Assert.NotEmpty(viaBatches);
        Assert.Equal(viaReadFile, viaBatches);
    }

    [Fact]
    public void DamagedFileYieldsEveryRecordBeforeTheDamageThenThrows()
    {
        var path = WriteCapture();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);   // cut inside a packet record

        var single = new ConnTraceRunner(new ConnTrackOptions());
        var oneByOne = new List<string>();
        using (var reader = CaptureReader.Open(path))
        {
            Assert.Throws<CaptureFormatException>(() =>
            {
                while (reader.TryReadNext(out var frame))
                {
                    single.ProcessFrame(frame);
                    while (single.TryTakeFinished(out var r)) oneByOne.Add(Row(r));
                }
            });
        }

        var batched = new ConnTraceRunner(new ConnTrackOptions());
        var beforeThrow = new List<string>();
        Assert.Throws<CaptureFormatException>(() => { foreach (var r in batched.ReadFile(path)) beforeThrow.Add(Row(r)); });
        Assert.NotEmpty(beforeThrow);
        Assert.Equal(oneByOne, beforeThrow);
        Assert.Equal(single.PacketsRead, batched.PacketsRead);
        Assert.Equal(single.Finish().Select(Row), batched.Finish().Select(Row));
    }
}

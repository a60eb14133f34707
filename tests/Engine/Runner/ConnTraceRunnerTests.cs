using System.Net;
using System.Net.NetworkInformation;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;
using PacketDotNet;
using Xunit;

namespace ConnTrack.Engine.Tests.Runner;

/// <summary>The whole pipeline over real capture files: records out, errors with file and offset, nothing lost.</summary>
public sealed class ConnTraceRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conntrack-runner-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress MacB = PhysicalAddress.Parse("02-00-00-00-00-02");
    private const long T0 = 1_700_000_000_000_000_000L;

    private static byte[] Udp(string src, ushort sport, string dst, ushort dport, int payload)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = new byte[payload] };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = udp };
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        var eth = new EthernetPacket(MacA, MacB, EthernetType.IPv4) { PayloadPacket = ip };
        return eth.Bytes;
    }

    /// <summary>Writes a pcap of UDP request/response pairs, one connection per pair, 1 s apart.</summary>
    private string WriteCapture(string name, int connections)
    {
        var path = Path.Combine(_dir, name);
        using var fs = File.Create(path);
        using var w = new PcapWriter(fs, LinkType.Ethernet);
        for (int i = 0; i < connections; i++)
        {
            long t = T0 + i * 1_000_000_000L;
            var port = (ushort)(40000 + i);
            w.WritePacket(Udp("10.0.0.1", port, "10.0.0.2", 9999, 10), t);
            w.WritePacket(Udp("10.0.0.2", 9999, "10.0.0.1", port, 30), t + 1_000_000);
        }
        return path;
    }

    [Fact]
    public void Reads_a_file_into_zeek_records()
    {
        var path = WriteCapture("two.pcap", 2);
        var runner = new ConnTraceRunner(new ConnTrackOptions());
        var records = runner.ReadFile(path).Concat(runner.Finish()).OrderBy(r => r.Ts).ToList();

        Assert.Equal(2, records.Count);
        var r = records[0];
        Assert.Equal("10.0.0.1", r.OrigH.ToString());
        Assert.Equal(40000, r.OrigP);
        Assert.Equal("10.0.0.2", r.RespH.ToString());
        Assert.Equal(9999, r.RespP);
        Assert.Equal(TransportProto.Udp, r.Proto);
        Assert.Equal("SF", r.ConnState);
        Assert.Equal("Dd", r.History);
        Assert.Equal(10UL, r.OrigBytes);
        Assert.Equal(30UL, r.RespBytes);
        Assert.Equal(1_000_000L, r.Duration);
        Assert.Equal(1UL, r.OrigPkts);
        Assert.Equal(38UL, r.OrigIpBytes);   // 20 IP + 8 UDP + 10
        Assert.Equal(58UL, r.RespIpBytes);
        Assert.True(r.LocalOrig);
        Assert.True(r.LocalResp);
        Assert.Equal(17, r.IpProto);
        Assert.Equal(T0, r.Ts);
        Assert.StartsWith("C", r.Uid);
        Assert.NotEqual(records[0].Uid, records[1].Uid);
        Assert.Equal(4, runner.PacketsRead);
        Assert.Equal(2, runner.ConnectionsFinished);
    }

    [Fact]
    public void Records_stream_out_as_connections_end_not_at_the_end()
    {
        // 70 connections 1 s apart: the first ones time out (60 s of UDP inactivity) while the file is still being read.
        var path = WriteCapture("many.pcap", 70);
        var runner = new ConnTraceRunner(new ConnTrackOptions());
        int duringRead = runner.ReadFile(path).Count();
        int atEnd = runner.Finish().Count();
        Assert.True(duringRead > 0, "no record came out before the end of the input");
        Assert.Equal(70, duringRead + atEnd);
    }

    [Fact]
    public void Truncated_capture_keeps_every_connection_and_names_file_and_offset()
    {
        var path = WriteCapture("cut.pcap", 3);
        var full = File.ReadAllBytes(path);
        File.WriteAllBytes(path, full[..^20]); // cut into the last packet

        var runner = new ConnTraceRunner(new ConnTrackOptions());
        var seen = new List<ConnRecord>();
        var ex = Assert.Throws<CaptureFormatException>(() => { foreach (var r in runner.ReadFile(path)) seen.Add(r); });
        Assert.Equal(CaptureProblem.Truncated, ex.Problem);
        Assert.Equal(path, ex.FilePath);
        Assert.Contains(path, ex.Message);
        Assert.True(ex.Offset > 24 && ex.Offset < full.Length, $"offset {ex.Offset}");

        seen.AddRange(runner.Finish());
        Assert.Equal(3, seen.Count); // the third connection is there too, with its request only
        var last = seen.OrderBy(r => r.Ts).Last();
        Assert.Equal("S0", last.ConnState);
        Assert.Equal(5, runner.PacketsRead);
    }

    [Fact]
    public void Two_files_in_sequence_are_one_trace()
    {
        // A request at the end of one file and its response at the start of the next: one connection.
        var a = Path.Combine(_dir, "a.pcap");
        var b = Path.Combine(_dir, "b.pcap");
        using (var fs = File.Create(a))
        using (var w = new PcapWriter(fs, LinkType.Ethernet))
            w.WritePacket(Udp("10.0.0.1", 5000, "10.0.0.2", 9999, 10), T0);
        using (var fs = File.Create(b))
        using (var w = new PcapWriter(fs, LinkType.Ethernet))
            w.WritePacket(Udp("10.0.0.2", 9999, "10.0.0.1", 5000, 30), T0 + 2_000_000);

        var runner = new ConnTraceRunner(new ConnTrackOptions());
        var records = runner.ReadFile(a).Concat(runner.ReadFile(b)).Concat(runner.Finish()).ToList();
        var r = Assert.Single(records);
        Assert.Equal("SF", r.ConnState);
        Assert.Equal("Dd", r.History);
    }

    [Fact]
    public void Not_a_capture_is_a_clear_error()
    {
        var path = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(path, "these are not packets, just words in a file");
        var runner = new ConnTraceRunner(new ConnTrackOptions());
        var ex = Assert.Throws<CaptureFormatException>(() => runner.ReadFile(path).ToList());
        Assert.Equal(CaptureProblem.NotACapture, ex.Problem);
        Assert.Contains("notes.txt", ex.Message);
    }

    [Fact]
    public void Capture_filter_keeps_only_matching_packets()
    {
        var path = Path.Combine(_dir, "mixed.pcap");
        using (var fs = File.Create(path))
        using (var w = new PcapWriter(fs, LinkType.Ethernet))
        {
            w.WritePacket(Udp("10.0.0.1", 5000, "10.0.0.2", 53, 10), T0);
            w.WritePacket(Udp("10.0.0.1", 5001, "10.0.0.2", 123, 10), T0 + 1000);
        }
        ConnTraceRunner runner;
        try
        {
            runner = new ConnTraceRunner(new ConnTrackOptions { CaptureFilter = "udp port 53" });
        }
        catch (CaptureFilterException) when (Environment.GetEnvironmentVariable("CI") != "true")
        {
            return; // libpcap missing on this machine; CI installs it
        }
        using (runner)
        {
            var r = Assert.Single(runner.ReadFile(path).Concat(runner.Finish()));
            Assert.Equal(53, r.RespP);
        }
    }
}

using System.Buffers.Binary;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using Xunit;

namespace ConnTrack.Engine.Tests.Decoding;

/// <summary>Decodes real frames from the conformance traces (read in place; skipped when the corpus is absent).</summary>
public class CorpusTraceTests
{
    private const string Traces = "/work/shared/conformance/traces";

    /// <summary>A minimal classic-pcap reader for tests only (little-endian files, us or ns).</summary>
    private static IEnumerable<(byte[] Data, int OrigLen, LinkType Link)> ReadPcap(string path)
    {
        var bytes = File.ReadAllBytes(path);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        Assert.True(magic is 0xA1B2C3D4u or 0xA1B23C4Du, $"{path}: not a little-endian pcap");
        var link = (LinkType)BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20));
        int at = 24;
        while (at + 16 <= bytes.Length)
        {
            int incl = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 8));
            int orig = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 12));
            yield return (bytes.AsSpan(at + 16, incl).ToArray(), orig, link);
            at += 16 + incl;
        }
    }

    [Theory]
    [InlineData("q-in-q.pcap")]
    [InlineData("mpls-in-vlan.pcap")]
    [InlineData("mixed-vlan-mpls.pcap")]
    [InlineData("pppoe.pcap")]
    [InlineData("pppoe-over-qinq.pcap")]
    [InlineData("vntag.pcap")]
    [InlineData("cisco-fabric-path.pcap")]
    [InlineData("http-vlan-0.pcap")]
    [InlineData("radiotap.pcap")]
    [InlineData("wlanmon.pcap")]
    [InlineData("tcp-http-with-padding.pcap")]
    [InlineData("tcp-syslog-nontransparent.pcap")]
    public void TraceDecodesToIp(string name)
    {
        var path = Path.Combine(Traces, name);
        if (!File.Exists(path)) return;
        var weirds = new WeirdCounters();
        // Several of these traces are anonymised with stale checksums; Zeek reads them with -C.
        var d = new PacketDecoder(false, weirds);
        int ok = 0, total = 0;
        foreach (var (data, orig, link) in ReadPcap(path))
        {
            total++;
            if (d.Decode(new RawFrame(data, 0, orig, link, 0), out var s) == DecodeStatus.Ok)
            {
                ok++;
                Assert.True(s.IpLength >= (s.IsIPv6 ? 40 : 20), $"{name}: IP length {s.IpLength}");
                Assert.True(s.PayloadLength >= 0 && s.CapturedPayloadLength <= s.PayloadLength, $"{name}: payload {s.PayloadLength}/{s.CapturedPayloadLength}");
            }
        }
        Console.WriteLine($"{name}: {ok}/{total} ok; weirds: {string.Join(", ", weirds.All.Select(kv => kv.Key + "=" + kv.Value))}");
        Assert.True(ok > 0, $"{name}: nothing decoded of {total}");
    }
}

using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using Xunit;

namespace ConnTrack.Engine.Tests.Decoding;

/// <summary>Decodes real frames from the conformance traces (read in place; skipped when the corpus is absent).</summary>
public class CorpusTraceTests
{
    private static string? Traces =>
        ConnTrack.Conformance.ConformanceCorpus.Locate() is { } corpus ? Path.Combine(corpus, "traces") : null;

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
        if (Traces is not { } traces)
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI=true and the conformance corpus is missing");
            return; // no corpus on this machine
        }
        var path = Path.Combine(traces, name);
        var weirds = new WeirdCounters();
        // Several of these traces are anonymised with stale checksums; Zeek reads them with -C.
        var d = new PacketDecoder(false, weirds);
        int ok = 0, total = 0;
        using var reader = CaptureReader.Open(path);
        while (reader.TryReadNext(out var frame))
        {
            total++;
            if (d.Decode(frame, out var s) == DecodeStatus.Ok)
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

using System.Text;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Records;

public class ZeekTsvWriterTests
{
    // These rows are Zeek's own output: the tests need the corpus (CI has it beside the repository).
    private static string Corpus =>
        ConnTrack.Conformance.ConformanceCorpus.Locate()
        ?? throw new InvalidOperationException("the conformance corpus (shared/conformance beside the repository, or $CONNTRACK_CONFORMANCE) is needed for these tests");

    // 2011-03-18 19:06:07.096535 UTC-ish; any microsecond time works, the corpus masks ts.
    private const long TsNs = 1_300_475_167_096_535_000L;

    /// <summary>The data line of a corpus conn.log whose uid is <paramref name="uid"/>, read in place.</summary>
    private static string CorpusRow(string file, string uid) =>
        File.ReadLines(Path.Combine(Corpus, "expected", file))
            .Single(l => !l.StartsWith('#') && l.Split('\t') is { Length: > 1 } c && c[1] == uid);

    private static string MaskTs(string line) =>
        "XXXXXXXXXX.XXXXXX" + line.Substring(line.IndexOf('\t'));

    [Fact]
    public void TcpRow_EqualsZeeksTeredoRow()
    {
        var r = new ConnRecord
        {
            Ts = TsNs, Uid = "C3eiCBGOLw3VtHfOj",
            OrigH = IPAddr128.Parse("192.168.2.16"), OrigP = 1578,
            RespH = IPAddr128.Parse("75.126.203.78"), RespP = 80,
            Proto = TransportProto.Tcp, Service = "http", Duration = 407_908_000,
            OrigBytes = 790, RespBytes = 171, ConnState = "RSTO", LocalOrig = true, LocalResp = false,
            MissedBytes = 0, History = "ShADadR", OrigPkts = 6, OrigIpBytes = 1038, RespPkts = 4, RespIpBytes = 335,
            TunnelParents = null, IpProto = 6,
        };
        var line = ZeekFieldFormat.TsvLine(r);
        Assert.Equal(CorpusRow("core.tunnels.teredo.conn.log", "C3eiCBGOLw3VtHfOj"), MaskTs(line));
        Assert.StartsWith("1300475167.096535\t", line);
    }

    [Fact]
    public void Icmp6RowWithTunnelParents_EqualsZeeksRow()
    {
        var r = new ConnRecord
        {
            Ts = TsNs, Uid = "CmES5u32sYpV7JYN",
            OrigH = IPAddr128.Parse("2001:0:4137:9e50:8000:f12a:b9c8:2815"), OrigP = 128,
            RespH = IPAddr128.Parse("2001:4860:0:2001::68"), RespP = 129,
            Proto = TransportProto.Icmp, Service = null, Duration = 7_778_000,
            OrigBytes = 4, RespBytes = 4, ConnState = "OTH", LocalOrig = true, LocalResp = false,
            MissedBytes = 0, History = null, OrigPkts = 1, OrigIpBytes = 52, RespPkts = 1, RespIpBytes = 52,
            TunnelParents = new[] { "CHhAvVGS1DHFjwGM9", "CUM0KZ3MLUfNB0cl11" }, IpProto = 58,
        };
        Assert.Equal(CorpusRow("core.tunnels.teredo_bubble_with_payload.conn.log", "CmES5u32sYpV7JYN"),
            MaskTs(ZeekFieldFormat.TsvLine(r)));
    }

    [Fact]
    public void UnsetDurationAndBytes_AreDashes()
    {
        var r = new ConnRecord
        {
            Ts = TsNs, Uid = "C9rXSW3KSpTYvPrlI1",
            OrigH = IPAddr128.Parse("0.0.0.0"), OrigP = 68, RespH = IPAddr128.Parse("255.255.255.255"), RespP = 67,
            Proto = TransportProto.Udp, Service = "dhcp", ConnState = "S0", LocalOrig = true, LocalResp = true,
            History = "D", OrigPkts = 1, OrigIpBytes = 328, RespPkts = 0, RespIpBytes = 0, IpProto = 17,
        };
        Assert.Equal(CorpusRow("core.tunnels.teredo.conn.log", "C9rXSW3KSpTYvPrlI1"), MaskTs(ZeekFieldFormat.TsvLine(r)));
    }

    [Fact]
    public void HeaderAndClose_AreZeeksMetaLines()
    {
        var sw = new StringWriter();
        var times = new Queue<DateTime>(new[] { new DateTime(2026, 1, 2, 3, 4, 5), new DateTime(2026, 1, 2, 3, 4, 9) });
        using (var w = new ZeekTsvWriter(sw, leaveOpen: true, clock: () => times.Dequeue()))
        {
            w.Write(MinimalRecord());
        }
        var lines = sw.ToString().Split('\n');
        Assert.Equal("#separator \\x09", lines[0]);
        Assert.Equal("#set_separator\t,", lines[1]);
        Assert.Equal("#empty_field\t(empty)", lines[2]);
        Assert.Equal("#unset_field\t-", lines[3]);
        Assert.Equal("#path\tconn", lines[4]);
        Assert.Equal("#open\t2026-01-02-03-04-05", lines[5]);
        Assert.Equal("#close\t2026-01-02-03-04-09", lines[9]);
        Assert.Equal("", lines[10]); // the file ends in '\n'
        Assert.Equal(11, lines.Length);

        // Every header line but #open equals the corpus's (which masks the open time).
        var expected = File.ReadLines(Path.Combine(Corpus, "expected", "opt.basic.conn.log"))
            .Where(l => l.StartsWith('#') && !l.StartsWith("##") && !l.StartsWith("#open") && !l.StartsWith("#close"))
            .ToArray();
        Assert.Equal(expected, lines.Take(8).Where(l => !l.StartsWith("#open")).ToArray());
    }

    [Fact]
    public void NoRecords_WritesNothing()
    {
        var sw = new StringWriter();
        using (var w = new ZeekTsvWriter(sw, leaveOpen: true)) { }
        Assert.Equal("", sw.ToString());
    }

    [Fact]
    public void EmptySetAndEmptyString_AreEmptyField()
    {
        var r = MinimalRecord();
        r.TunnelParents = Array.Empty<string>();
        r.Service = "";
        var cols = ZeekFieldFormat.TsvLine(r).Split('\t');
        Assert.Equal("(empty)", cols[ZeekFieldFormat.TunnelParents]);
        Assert.Equal("(empty)", cols[ZeekFieldFormat.Service]);
    }

    [Theory]
    [InlineData("a\tb", "a\\x09b")]
    [InlineData("a\nb", "a\\x0ab")]
    [InlineData("back\\slash", "back\\x5cslash")]
    [InlineData("del\u007f", "del\\x7f")]
    [InlineData("-", "\\x2d")]
    [InlineData("(empty)", "\\x28empty)")]
    [InlineData("a-b", "a-b")]
    [InlineData("a,b", "a,b")]
    [InlineData("héllo", "héllo")]
    public void Strings_AreEscapedAsZeekDoes(string value, string expected)
    {
        var r = MinimalRecord();
        r.History = value;
        Assert.Equal(expected, ZeekFieldFormat.TsvLine(r).Split('\t')[ZeekFieldFormat.History]);
    }

    [Fact]
    public void LoneSurrogate_IsEscapedAsItsBytes_ValidPairPasses()
    {
        var r = MinimalRecord();
        r.History = "x" + '\ud800' + "y\U0001F600";
        Assert.Equal("x\\xed\\xa0\\x80y\U0001F600", ZeekFieldFormat.TsvLine(r).Split('\t')[ZeekFieldFormat.History]);
    }

    [Fact]
    public void SetElements_EscapeTheSetSeparator()
    {
        var r = MinimalRecord();
        r.TunnelParents = new[] { "Ca,b", "-", "Cz" };
        Assert.Equal("Ca\\x2cb,\\x2d,Cz", ZeekFieldFormat.TsvLine(r).Split('\t')[ZeekFieldFormat.TunnelParents]);
    }

    [Theory]
    [InlineData("fe80::217:f2ff:fed7:cf65", "fe80::217:f2ff:fed7:cf65")]
    [InlineData("ff02::fb", "ff02::fb")]
    [InlineData("2001:0:4137:9e50:8000:f12a:b9c8:2815", "2001:0:4137:9e50:8000:f12a:b9c8:2815")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("1::", "1::")]
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    [InlineData("1:0:0:2:0:0:3:4", "1::2:0:0:3:4")]
    [InlineData("::c000:201", "::192.0.2.1")]
    [InlineData("::ffff:0:c000:201", "::ffff:0:192.0.2.1")]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1")]
    [InlineData("10.0.0.255", "10.0.0.255")]
    [InlineData("2001:DB8::A", "2001:db8::a")]
    public void Addresses_AreFormattedAsZeek(string input, string expected) =>
        Assert.Equal(expected, ZeekFieldFormat.FormatAddr(IPAddr128.Parse(input)));

    [Theory]
    [InlineData(0.000357, "0.000357")]
    [InlineData(2.000182, "2.000182")]
    [InlineData(1300475167.096535, "1300475167.096535")]
    [InlineData(5.0, "5.000000")]
    [InlineData(0.9999996, "1.000000")]
    [InlineData(0.0000005, "0.000001")] // exactly half, fraction 0: modp_dtoa rounds up
    [InlineData(-1.5, "-1.500000")]
    [InlineData(3e9, "3.000000e+09")]
    public void Doubles_AreRenderedAsModpDtoa(double value, string expected) =>
        Assert.Equal(expected, ZeekFieldFormat.FormatDouble6(value));

    [Fact]
    public void NanosecondTimes_AreTruncatedToMicroseconds()
    {
        Assert.Equal(1300475167.096535, ZeekFieldFormat.ZeekTime(1_300_475_167_096_535_999L));
        var r = MinimalRecord();
        r.Ts = 1_300_475_167_096_535_999L;
        r.Duration = 2; // crosses a microsecond boundary: Zeek sees 1 us
        var cols = ZeekFieldFormat.TsvLine(r).Split('\t');
        Assert.Equal("1300475167.096535", cols[0]);
        Assert.Equal("0.000001", cols[ZeekFieldFormat.Duration]);
    }

    [Fact]
    public void UnknownTransport_AndPortsAsNumbers()
    {
        var r = MinimalRecord();
        r.Proto = TransportProto.Unknown;
        r.IpProto = 132;
        r.OrigP = 0; r.RespP = 65535;
        var cols = ZeekFieldFormat.TsvLine(r).Split('\t');
        Assert.Equal("unknown_transport", cols[ZeekFieldFormat.Proto]);
        Assert.Equal("0", cols[ZeekFieldFormat.OrigP]);
        Assert.Equal("65535", cols[ZeekFieldFormat.RespP]);
        Assert.Equal("132", cols[ZeekFieldFormat.IpProto]);
    }

    [Fact]
    public void WriterOutput_IsHeaderLinesThenRecordsThenClose_Utf8WithoutBom()
    {
        var path = Path.Combine(Path.GetTempPath(), "conntrack-tsv-" + Guid.NewGuid() + ".log");
        try
        {
            using (var w = ZeekTsvWriter.Create(path, () => new DateTime(2026, 5, 6, 7, 8, 9)))
            {
                w.Write(MinimalRecord());
                w.Write(MinimalRecord());
                Assert.Equal(2, w.RecordsWritten);
            }
            var bytes = File.ReadAllBytes(path);
            Assert.Equal((byte)'#', bytes[0]);
            var text = Encoding.UTF8.GetString(bytes);
            Assert.DoesNotContain("\r", text);
            var lines = text.TrimEnd('\n').Split('\n');
            Assert.Equal(11, lines.Length);
            Assert.Equal(ZeekFieldFormat.TsvLine(MinimalRecord()), lines[8]);
            Assert.Equal("#close\t2026-05-06-07-08-09", lines[10]);
        }
        finally { File.Delete(path); }
    }

    internal static ConnRecord MinimalRecord() => new()
    {
        Ts = TsNs, Uid = "CHhAvVGS1DHFjwGM9",
        OrigH = IPAddr128.Parse("10.0.0.1"), OrigP = 1234, RespH = IPAddr128.Parse("10.0.0.2"), RespP = 80,
        Proto = TransportProto.Tcp, ConnState = "S0", LocalOrig = true, LocalResp = true, History = "S",
        OrigPkts = 1, OrigIpBytes = 60, RespPkts = 0, RespIpBytes = 0, IpProto = 6,
    };
}

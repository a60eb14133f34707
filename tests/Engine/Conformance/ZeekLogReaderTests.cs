using System.IO.Compression;
using System.Text;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Conformance;

public sealed class ZeekLogReaderTests
{
    private const string Tsv =
        "#separator \\x09\n" +
        "#set_separator\t,\n" +
        "#empty_field\t(empty)\n" +
        "#unset_field\t-\n" +
        "#path\tconn\n" +
        "#open\t2024-01-01-00-00-00\n" +
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n" +
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n" +
        "1300475167.096535\tCHhAvVGS1DHFjwGM9\t141.142.220.202\t5353\t224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\tT\tF\t0\tD\t1\t73\t0\t0\t-\t17\n" +
        "1300475168.652003\tClEkJM2Vm5giqnMf4h\tfe80::217:f2ff:fed7:cf65\t52575\t2001:db8::1\t80\ttcp\thttp,ssl\t10.914549\t16\t191\tSF\tF\tF\t0\tShADadfF\t13\t704\t12\t823\tCa,Cb\t6\n" +
        "XXXXXXXXXX.XXXXXX\tC3\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\t\\x2d\t0.000001\t0\t0\tOTH\t-\t-\t0\t(empty)\t1\t28\t0\t0\t(empty)\t1\n" +
        "#close\t2024-01-01-00-00-01\n";

    [Fact]
    public void Reads_tsv_header_and_rows_as_text()
    {
        using var reader = ZeekLogReader.FromText(Tsv);
        var rows = reader.ReadRows().ToList();

        Assert.Equal(ZeekLogFormat.Tsv, reader.Format);
        Assert.Equal("\t", reader.Separator);
        Assert.Equal("conn", reader.LogPath);
        Assert.Equal(22, reader.Fields.Count);
        Assert.Equal("set[string]", reader.Types![20]);
        Assert.Equal(3, rows.Count);
        Assert.Equal("141.142.220.202", rows[0]["id.orig_h"]);
        Assert.Equal("-", rows[0]["duration"]);
        Assert.Null(rows[0].GetValue("duration"));
        Assert.Equal("http,ssl", rows[1]["service"]);
        Assert.Equal(10, rows[1].LineNumber);
        Assert.Null(rows[1]["no_such_column"]);
        // An escaped '-' is a one-character string, not unset.
        Assert.Equal("\\x2d", rows[2]["service"]);
        Assert.Equal("-", rows[2].GetValue("service"));
        Assert.Equal("", rows[2].GetValue("history"));
        Assert.Equal(["Ca", "Cb"], rows[1].GetSet("tunnel_parents")!);
        Assert.Empty(rows[2].GetSet("tunnel_parents")!);
        Assert.Null(rows[0].GetSet("tunnel_parents"));
        Assert.True(rows[2].IsMasked("ts"));
        Assert.False(rows[1].IsMasked("ts"));
    }

    [Fact]
    public void Maps_rows_to_conn_records()
    {
        var rows = ZeekLogReader.FromText(Tsv).ReadRows().ToList();

        var a = rows[0].ToConnRecord();
        Assert.Equal(1_300_475_167_096_535_000L, a.Ts);
        Assert.Equal("CHhAvVGS1DHFjwGM9", a.Uid);
        Assert.Equal(IPAddr128.Parse("141.142.220.202"), a.OrigH);
        Assert.Equal((ushort)5353, a.OrigP);
        Assert.Equal(TransportProto.Udp, a.Proto);
        Assert.Equal("dns", a.Service);
        Assert.Null(a.Duration);
        Assert.Null(a.OrigBytes);
        Assert.Equal("S0", a.ConnState);
        Assert.True(a.LocalOrig);
        Assert.False(a.LocalResp);
        Assert.Equal("D", a.History);
        Assert.Equal(73UL, a.OrigIpBytes);
        Assert.Null(a.TunnelParents);
        Assert.Equal(17, a.IpProto);

        var b = rows[1].ToConnRecord();
        Assert.Equal(IPAddr128.Parse("fe80::217:f2ff:fed7:cf65"), b.OrigH);
        Assert.Equal(10_914_549_000L, b.Duration);
        Assert.Equal(191UL, b.RespBytes);
        Assert.Equal(["Ca", "Cb"], b.TunnelParents!);
        Assert.Equal(TransportProto.Tcp, b.Proto);

        var c = rows[2].ToConnRecord();
        Assert.Equal(0L, c.Ts); // masked
        Assert.Equal(TransportProto.Icmp, c.Proto);
        Assert.Equal(1_000L, c.Duration);
        Assert.Null(c.LocalOrig);
        Assert.Equal("", c.History);
        Assert.Empty(c.TunnelParents!);
    }

    [Fact]
    public void Bad_value_names_column_and_line()
    {
        var text = "#fields\tid.orig_p\tproto\n#types\tport\tenum\n99999\ttcp\n";
        var row = ZeekLogReader.FromText(text).ReadRows().Single();
        var ex = Assert.Throws<FormatException>(() => row.ToConnRecord());
        Assert.Contains("line 3", ex.Message);
        Assert.Contains("id.orig_p", ex.Message);
    }

    [Fact]
    public void Reads_bare_header_line_renames_and_duplicate_columns()
    {
        var text = "### BTest baseline data\nsrc_ip\tsrc_port\tid.resp_p\tid.resp_p\thistory\n10.1.1.1\t1234\t80\t80\tShADadFf\n";
        var options = new ZeekLogReaderOptions { Renames = new Dictionary<string, string> { ["src_ip"] = "id.orig_h", ["src_port"] = "id.orig_p" } };
        using var reader = ZeekLogReader.FromText(text, options);
        var row = reader.ReadRows().Single();
        Assert.Equal(["id.orig_h", "id.orig_p", "id.resp_p", "id.resp_p", "history"], reader.Fields);
        Assert.Equal("10.1.1.1", row["id.orig_h"]);
        Assert.Equal("80", row["id.resp_p"]);
        Assert.Equal(3, row.LineNumber);
        Assert.Equal((ushort)1234, row.ToConnRecord().OrigP);
    }

    [Fact]
    public void Reads_headerless_log_with_given_columns()
    {
        var text = "### BTest baseline data\n141.142.228.5\t59856\ttcp\n";
        var options = new ZeekLogReaderOptions { Columns = ["id.orig_h", "id.orig_p", "proto"] };
        var row = ZeekLogReader.FromText(text, options).ReadRows().Single();
        Assert.Equal("59856", row["id.orig_p"]);
        Assert.Equal(TransportProto.Tcp, row.ToConnRecord().Proto);
    }

    [Fact]
    public void Reads_json_lines_as_zeek_text()
    {
        var text =
            "{\"ts\":1300475167.0965,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":80,\"proto\":\"tcp\",\"local_orig\":true,\"tunnel_parents\":[],\"service\":\"\"}\n" +
            "{\"ts\":2.5,\"uid\":\"C2\",\"id\":{\"orig_h\":\"10.0.0.2\",\"orig_p\":53},\"proto\":\"udp\",\"local_orig\":false,\"tunnel_parents\":[\"C1\",\"C0\"],\"duration\":0.25,\"history\":\"-\"}\n";
        using var reader = ZeekLogReader.FromText(text);
        var rows = reader.ReadRows().ToList();
        Assert.Equal(ZeekLogFormat.JsonLines, reader.Format);
        Assert.Equal("1300475167.096500", rows[0]["ts"]);
        Assert.Equal("80", rows[0]["id.orig_p"]);
        Assert.Equal("T", rows[0]["local_orig"]);
        Assert.Equal("(empty)", rows[0]["tunnel_parents"]);
        Assert.Equal("(empty)", rows[0]["service"]);
        Assert.Equal("-", rows[0]["duration"]); // key absent in this object
        Assert.Equal("2.500000", rows[1]["ts"]);
        Assert.Equal("10.0.0.2", rows[1]["id.orig_h"]); // nested object flattened
        Assert.Equal("F", rows[1]["local_orig"]);
        Assert.Equal("C1,C0", rows[1]["tunnel_parents"]);
        Assert.Equal("\\x2d", rows[1]["history"]);
        var r = rows[1].ToConnRecord();
        Assert.Equal(2_500_000_000L, r.Ts);
        Assert.Equal(250_000_000L, r.Duration);
        Assert.Equal("-", r.History);
    }

    [Fact]
    public void Reads_gzip_by_content()
    {
        var path = Path.Combine(Path.GetTempPath(), $"conntrack-zeeklog-{Guid.NewGuid():N}.log"); // no .gz: detection is by content
        try
        {
            using (var file = File.Create(path))
            using (var gz = new GZipStream(file, CompressionLevel.Fastest))
                gz.Write(Encoding.UTF8.GetBytes(Tsv));
            var rows = ZeekLogReader.ReadAll(path);
            Assert.Equal(3, rows.Count);
            Assert.Equal("ClEkJM2Vm5giqnMf4h", rows[1]["uid"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Honours_other_markers_and_escaped_separator()
    {
        var text = "#separator \\x7c\n#set_separator|;\n#empty_field|EMPTY\n#unset_field|NONE\n#fields|uid|tunnel_parents|service\nC1|a;b|NONE\nC2|EMPTY|x\\x7cy\n";
        var rows = ZeekLogReader.FromText(text).ReadRows().ToList();
        Assert.Equal("a,b", rows[0]["tunnel_parents"]);
        Assert.Equal("-", rows[0]["service"]);
        Assert.Equal("(empty)", rows[1]["tunnel_parents"]);
        Assert.Equal("x|y", rows[1].GetValue("service"));
    }

    [Theory]
    [InlineData("1300475167.096535", 1_300_475_167_096_535_000L)]
    [InlineData("0.000001", 1_000L)]
    [InlineData("12", 12_000_000_000L)]
    [InlineData("1.1234567891", 1_123_456_789L)]
    public void Parses_seconds_exactly(string text, long nanos)
    {
        Assert.True(ZeekConnRowMapper.TryParseSecondsToNanos(text, out var got));
        Assert.Equal(nanos, got);
    }

    [Theory]
    [InlineData("")]
    [InlineData("XXXXXXXXXX.XXXXXX")]
    [InlineData("1.2.3")]
    public void Rejects_non_numbers(string text) => Assert.False(ZeekConnRowMapper.TryParseSecondsToNanos(text, out _));
}

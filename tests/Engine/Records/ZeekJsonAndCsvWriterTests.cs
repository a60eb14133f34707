using System.Text.Json;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Records;

public class ZeekJsonWriterTests
{
    private static ConnRecord Full() => new()
    {
        Ts = 1_300_475_167_096_535_000L, Uid = "C3eiCBGOLw3VtHfOj",
        OrigH = IPAddr128.Parse("192.168.2.16"), OrigP = 1578,
        RespH = IPAddr128.Parse("2001:4860:0:2001::68"), RespP = 80,
        Proto = TransportProto.Tcp, Service = "http", Duration = 407_908_000,
        OrigBytes = 790, RespBytes = 171, ConnState = "RSTO", LocalOrig = true, LocalResp = false,
        MissedBytes = 0, History = "ShADadR", OrigPkts = 6, OrigIpBytes = 1038, RespPkts = 4, RespIpBytes = 335,
        TunnelParents = new[] { "CHhAvVGS1DHFjwGM9", "CUM0KZ3MLUfNB0cl11" }, IpProto = 6,
    };

    [Fact]
    public void Object_HasZeeksKeysOrderAndTypes()
    {
        var json = ZeekJsonWriter.ToJson(Full());
        var expectedDuration = ZeekFieldFormat.ZeekDuration(Full().Ts, 407_908_000)
            .ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(
            "{\"ts\":1300475167.096535,\"uid\":\"C3eiCBGOLw3VtHfOj\",\"id.orig_h\":\"192.168.2.16\",\"id.orig_p\":1578," +
            "\"id.resp_h\":\"2001:4860:0:2001::68\",\"id.resp_p\":80,\"proto\":\"tcp\",\"service\":\"http\"," +
            "\"duration\":" + expectedDuration + ",\"orig_bytes\":790,\"resp_bytes\":171,\"conn_state\":\"RSTO\"," +
            "\"local_orig\":true,\"local_resp\":false,\"missed_bytes\":0,\"history\":\"ShADadR\",\"orig_pkts\":6," +
            "\"orig_ip_bytes\":1038,\"resp_pkts\":4,\"resp_ip_bytes\":335," +
            "\"tunnel_parents\":[\"CHhAvVGS1DHFjwGM9\",\"CUM0KZ3MLUfNB0cl11\"],\"ip_proto\":6}", json);
        // The duration is Zeek's double difference, so it carries Zeek's float noise, not a rounded 0.407908.
        Assert.StartsWith("0.4079", expectedDuration);

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("ts").ValueKind);
        Assert.Equal(2, doc.RootElement.GetProperty("tunnel_parents").GetArrayLength());
    }

    [Fact]
    public void UnsetFields_AreLeftOut()
    {
        var r = Full();
        r.Service = null; r.Duration = null; r.OrigBytes = null; r.RespBytes = null; r.LocalOrig = null;
        r.LocalResp = null; r.TunnelParents = null;
        using var doc = JsonDocument.Parse(ZeekJsonWriter.ToJson(r));
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(new[]
        {
            "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state", "missed_bytes",
            "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "ip_proto",
        }, names);
    }

    [Fact]
    public void EmptySet_IsEmptyArray_AndStringsAreJsonEscaped()
    {
        var r = Full();
        r.TunnelParents = Array.Empty<string>();
        r.History = "a\"b\\c\td\u0001";
        var json = ZeekJsonWriter.ToJson(r);
        Assert.Contains("\"tunnel_parents\":[]", json);
        Assert.Contains("\"history\":\"a\\\"b\\\\c\\td\\u0001\"", json);
    }

    [Theory]
    [InlineData(1300475167.096535, "1300475167.096535")]
    [InlineData(2.0, "2.0")]
    [InlineData(0.000357, "0.000357")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.5e-7, "1.5e-7")]
    [InlineData(1e20, "100000000000000000000.0")]
    [InlineData(1e21, "1e21")]
    [InlineData(1.5e22, "1.5e22")]
    [InlineData(123456.5, "123456.5")]
    [InlineData(-0.25, "-0.25")]
    [InlineData(0.0, "0.0")]
    [InlineData(double.NaN, "null")]
    public void Doubles_AreWrittenAsRapidjson(double d, string expected)
    {
        var sb = new System.Text.StringBuilder();
        ZeekJsonWriter.AppendDouble(sb, d);
        Assert.Equal(expected, sb.ToString());
    }

    [Fact]
    public void Writer_WritesOneObjectPerLine()
    {
        var sw = new StringWriter();
        using (var w = new ZeekJsonWriter(sw, leaveOpen: true))
        {
            w.Write(Full());
            w.Write(Full());
        }
        var lines = sw.ToString().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        Assert.Equal(ZeekJsonWriter.ToJson(Full()), lines[0]);
    }
}

public class ConnCsvWriterTests
{
    [Fact]
    public void Header_IsConnLogFieldNames()
    {
        Assert.Equal("ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,service,duration,orig_bytes,resp_bytes," +
                     "conn_state,local_orig,local_resp,missed_bytes,history,orig_pkts,orig_ip_bytes,resp_pkts," +
                     "resp_ip_bytes,tunnel_parents,ip_proto", ConnCsvWriter.HeaderRow());
    }

    [Fact]
    public void Row_QuotesSetsAndQuotes_LeavesUnsetEmpty()
    {
        var r = ZeekTsvWriterTests.MinimalRecord();
        r.TunnelParents = new[] { "Ca", "Cb" };
        r.History = "x\"y";
        r.Service = "dns,http";
        Assert.Equal("1300475167.096535,CHhAvVGS1DHFjwGM9,10.0.0.1,1234,10.0.0.2,80,tcp,\"dns,http\",,,,S0,T,T,0," +
                     "\"x\"\"y\",1,60,0,0,\"Ca,Cb\",6", ConnCsvWriter.Row(r));
    }

    [Fact]
    public void Writer_WritesHeaderOnceAndCrlfRows()
    {
        var sw = new StringWriter();
        using (var w = new ConnCsvWriter(sw, leaveOpen: true))
        {
            w.Write(ZeekTsvWriterTests.MinimalRecord());
            w.Write(ZeekTsvWriterTests.MinimalRecord());
        }
        var text = sw.ToString();
        Assert.EndsWith("\r\n", text);
        var rows = text.Split("\r\n");
        Assert.Equal(4, rows.Length);
        Assert.Equal(ConnCsvWriter.HeaderRow(), rows[0]);
        Assert.Equal(ConnCsvWriter.Row(ZeekTsvWriterTests.MinimalRecord()), rows[1]);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("cr\r", "\"cr\r\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    public void Cells_FollowRfc4180(string value, string expected)
    {
        var sb = new System.Text.StringBuilder();
        ConnCsvWriter.AppendCell(sb, value);
        Assert.Equal(expected, sb.ToString());
    }
}

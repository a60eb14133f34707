using System.IO.Compression;
using System.Management.Automation;
using System.Net;

namespace ConnTrack.Module.Tests;

public sealed class ImportConnLogTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    private const string Cmd = "ConnTrack.Commands.ImportConnLogCommand";

    internal const string Tsv =
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-01-01-00-00-00\n" +
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n" +
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n" +
        "1300475167.096535\tCXWv6p3arKYeMETxOg\t141.142.220.202\t5353\t224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\tT\tF\t0\tD\t1\t73\t0\t0\t-\t17\n" +
        "1300475168.853899\tCjhGID4nQcgTWjvg4c\t141.142.220.118\t43927\t141.142.2.2\t53\tudp\tdns\t0.000435\t38\t89\tSF\tT\tT\t0\tDd\t1\t66\t1\t117\tCabc,Cdef\t17\n" +
        "#close\t2026-01-01-00-00-01\n";

    private void WriteTsv(string name) => File.WriteAllText(Path.Combine(_s.TempDir, name), Tsv);

    [Fact]
    public void ZeekTsvBecomesConnInfo()
    {
        WriteTsv("conn.log");
        var rows = _s.Run("Import-ConnLog ./conn.log");
        Assert.Equal(2, rows.Count);
        var dns = rows[1];
        Assert.Equal("ConnTrack.Model.ConnInfo", dns.BaseObject.GetType().FullName);
        Assert.Equal(new DateTime(2011, 3, 18, 19, 6, 8, DateTimeKind.Utc).AddTicks(8538990), dns.Properties["ts"].Value);
        Assert.Equal("CjhGID4nQcgTWjvg4c", dns.Properties["uid"].Value);
        Assert.Equal(IPAddress.Parse("141.142.220.118"), dns.Properties["orig_h"].Value);
        Assert.Equal(43927, dns.Properties["orig_p"].Value);
        Assert.Equal(53, dns.Properties["resp_p"].Value);
        Assert.Equal("dns", dns.Properties["service"].Value);
        Assert.Equal(0.000435, (double)dns.Properties["duration"].Value, 9);
        Assert.Equal(89L, dns.Properties["resp_bytes"].Value);
        Assert.Equal(true, dns.Properties["local_resp"].Value);
        Assert.Equal("Cabc,Cdef", dns.Properties["tunnel_parents"].Value!.ToString());
        Assert.Null(rows[0].Properties["duration"].Value);
        Assert.Equal(false, rows[0].Properties["local_resp"].Value);
    }

    [Fact]
    public void ScriptsForCapturesWorkOnLogs()
    {
        WriteTsv("conn.log");
        var sf = Assert.Single(_s.Run("Import-ConnLog ./conn.log | Where-Object conn_state -eq SF | Where-Object resp_p -eq 53"));
        Assert.Equal("Dd", sf.Properties["history"].Value);
    }

    [Fact]
    public void GzipAndJsonAreRead()
    {
        using (var gz = new GZipStream(File.Create(Path.Combine(_s.TempDir, "conn.log.gz")), CompressionLevel.Fastest))
            gz.Write(System.Text.Encoding.UTF8.GetBytes(Tsv));
        File.WriteAllText(Path.Combine(_s.TempDir, "conn.json"),
            "{\"ts\":1300475168.853899,\"uid\":\"CjhGID4nQcgTWjvg4c\",\"id.orig_h\":\"141.142.220.118\",\"id.orig_p\":43927," +
            "\"id.resp_h\":\"141.142.2.2\",\"id.resp_p\":53,\"proto\":\"udp\",\"service\":\"dns\",\"duration\":0.000435," +
            "\"orig_bytes\":38,\"resp_bytes\":89,\"conn_state\":\"SF\",\"missed_bytes\":0,\"history\":\"Dd\",\"orig_pkts\":1," +
            "\"orig_ip_bytes\":66,\"resp_pkts\":1,\"resp_ip_bytes\":117,\"ip_proto\":17}\n");
        var gz2 = _s.Run("Import-ConnLog -LiteralPath ./conn.log.gz");
        Assert.Equal(2, gz2.Count);
        var json = Assert.Single(_s.Run("Import-ConnLog ./conn.json"));
        Assert.Equal("CjhGID4nQcgTWjvg4c", json.Properties["uid"].Value);
        Assert.Equal(117L, json.Properties["resp_ip_bytes"].Value);
        Assert.Null(json.Properties["local_orig"].Value);
    }

    [Fact]
    public void MissingAndUnreadableLogsAreErrors()
    {
        File.WriteAllText(Path.Combine(_s.TempDir, "bad.log"), "#fields\tts\tuid\tid.orig_h\n1300475168.853899\tCx\tnot-an-address\n");
        WriteTsv("good.log");
        var rows = _s.Run("Import-ConnLog -LiteralPath ./missing.log, ./bad.log, ./good.log", out var errors);
        Assert.Equal(2, rows.Count);
        Assert.Equal(2, errors.Count);
        Assert.Equal($"LogFileNotFound,{Cmd}", errors[0].FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, errors[0].CategoryInfo.Category);
        Assert.Equal($"LogFileInvalid,{Cmd}", errors[1].FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, errors[1].CategoryInfo.Category);
        Assert.Contains("bad.log", errors[1].Exception.Message);
    }
}

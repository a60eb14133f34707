using System.Management.Automation;
using System.Net;

namespace ConnTrack.Module.Tests;

/// <summary>
/// Read-ConnTrace over samples/loopback.pcap (real loopback traffic made by tools/make-sample.sh): a TCP
/// connection accepted and closed (SF), one refused (REJ), a UDP request/reply (SF), a UDP datagram to a closed
/// port (S0) with its ICMP port unreachable, and two ICMP echoes. Expected values read off the packets with tcpdump.
/// </summary>
public sealed class ReadConnTraceTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    private const string Cmd = "ConnTrack.Commands.ReadConnTraceCommand";

    [Fact]
    public void AcceptedTcpConnectionHasZeeksFieldsAndTypes()
    {
        var sf = Assert.Single(_s.Run("Read-ConnTrace -Path $Sample -IgnoreChecksums | Where-Object resp_p -eq 18080"));
        Assert.Equal("ConnTrack.Model.ConnInfo", sf.BaseObject.GetType().FullName);
        Assert.Equal(IPAddress.Loopback, sf.Properties["orig_h"].Value);
        Assert.Equal(IPAddress.Loopback, sf.Properties["resp_h"].Value);
        Assert.Equal(52880, sf.Properties["orig_p"].Value);
        Assert.Equal("tcp", sf.Properties["proto"].Value);
        Assert.Equal("SF", sf.Properties["conn_state"].Value);
        Assert.Equal("ShADadfF", sf.Properties["history"].Value);
        Assert.Equal(17L, sf.Properties["orig_bytes"].Value);
        Assert.Equal(23L, sf.Properties["resp_bytes"].Value);
        Assert.Equal(5L, sf.Properties["orig_pkts"].Value);
        Assert.Equal(5L, sf.Properties["resp_pkts"].Value);
        Assert.Equal(285L, sf.Properties["orig_ip_bytes"].Value);
        Assert.Equal(291L, sf.Properties["resp_ip_bytes"].Value);
        Assert.Equal(0L, sf.Properties["missed_bytes"].Value);
        Assert.Equal(6, sf.Properties["ip_proto"].Value);
        Assert.Null(sf.Properties["service"].Value);
        Assert.Null(sf.Properties["tunnel_parents"].Value);
        var ts = Assert.IsType<DateTime>(sf.Properties["ts"].Value);
        Assert.Equal(DateTimeKind.Utc, ts.Kind);
        var duration = Assert.IsType<double>(sf.Properties["duration"].Value);
        Assert.Equal(0.000351, duration, 6);
        Assert.Matches("^C[0-9A-Za-z]{10,}$", (string)sf.Properties["uid"].Value);
    }

    [Fact]
    public void WhereConnStateRejFindsTheRefusedConnection()
    {
        var rej = Assert.Single(_s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Where-Object conn_state -eq REJ"));
        Assert.Equal(18081, rej.Properties["resp_p"].Value);
        Assert.Equal("Sr", rej.Properties["history"].Value);
        Assert.Equal(1L, rej.Properties["orig_pkts"].Value);
        Assert.Equal(1L, rej.Properties["resp_pkts"].Value);
        Assert.Equal(60L, rej.Properties["orig_ip_bytes"].Value);
        Assert.Equal(40L, rej.Properties["resp_ip_bytes"].Value);
    }

    [Fact]
    public void WithoutIgnoreChecksumsLoopbackOffloadShowsAsBadChecksumsAsInZeek()
    {
        // Loopback packets carry unfinished TCP/UDP checksums (offload); Zeek without -C flags them 'C'.
        var first = _s.Run("Read-ConnTrace $Sample | Where-Object proto -eq tcp");
        Assert.Contains(first, r => ((string?)r.Properties["history"].Value ?? "").Contains('C'));
        var ignored = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Where-Object proto -eq tcp");
        Assert.DoesNotContain(ignored, r => ((string?)r.Properties["history"].Value ?? "").Contains('C'));
    }

    [Fact]
    public void UdpAndIcmpConnectionsAreThere()
    {
        var all = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums");
        Assert.Equal(6, all.Count);
        var udp = Assert.Single(all, r => (int)r.Properties["resp_p"].Value == 15353);
        Assert.Equal("udp", udp.Properties["proto"].Value);
        Assert.Equal("SF", udp.Properties["conn_state"].Value);
        Assert.Equal("Dd", udp.Properties["history"].Value);
        Assert.Equal(13L, udp.Properties["orig_bytes"].Value);
        Assert.Equal(13L, udp.Properties["resp_bytes"].Value);
        var closed = Assert.Single(all, r => (int)r.Properties["resp_p"].Value == 15354);
        Assert.Equal("S0", closed.Properties["conn_state"].Value);
        var echo = Assert.Single(all, r => (string)r.Properties["proto"].Value == "icmp" && (int)r.Properties["orig_p"].Value == 8);
        Assert.Equal(0, echo.Properties["resp_p"].Value);
        Assert.Equal(2L, echo.Properties["orig_pkts"].Value);
        Assert.Equal(2L, echo.Properties["resp_pkts"].Value);
        Assert.Equal("OTH", echo.Properties["conn_state"].Value);
        Assert.Equal(1, echo.Properties["ip_proto"].Value);
    }

    [Fact]
    public void ThreadCountShardsFlowsAndGivesTheSameRecords()
    {
        // Every field but the uid, per connection, one thread against three.
        const string fields = "ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}|{8}|{9}|{10}|{11}' -f $_.ts.Ticks, $_.orig_h, $_.orig_p, $_.resp_h, $_.resp_p, $_.proto, $_.duration, $_.orig_bytes, $_.resp_bytes, $_.conn_state, $_.history, $_.resp_ip_bytes }";
        var one = _s.Run($"Read-ConnTrace $Sample -IgnoreChecksums -ThreadCount 1 | {fields}").Select(o => (string)o.BaseObject).Order().ToList();
        var three = _s.Run($"Read-ConnTrace $Sample -IgnoreChecksums -ThreadCount 3 | {fields}").Select(o => (string)o.BaseObject).Order().ToList();
        Assert.Equal(6, one.Count);
        Assert.Equal(one, three);
        var verbose = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums -ThreadCount 3 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }");
        Assert.Contains(verbose, o => o.BaseObject is VerboseRecord v && v.Message.Contains("3 threads: one reading and decoding, 2 tracking (flows sharded"));
    }

    [Fact]
    public void TwoThreads_OneReadingOneTracking_GiveTheOneThreadRecordsUidsAndOrderIncluded()
    {
        // One tracking thread draws the uids from the configured seed, in the same order as one thread does.
        const string fields = "ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}|{6}' -f $_.uid, $_.ts.Ticks, $_.orig_h, $_.orig_p, $_.conn_state, $_.history, $_.resp_ip_bytes }";
        var one = _s.Run($"Read-ConnTrace $Sample -IgnoreChecksums -ThreadCount 1 | {fields}").Select(o => (string)o.BaseObject).ToList();
        var two = _s.Run($"Read-ConnTrace $Sample -IgnoreChecksums -ThreadCount 2 | {fields}").Select(o => (string)o.BaseObject).ToList();
        Assert.Equal(6, one.Count);
        Assert.Equal(one, two);
        var verbose = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums -ThreadCount 2 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message");
        Assert.Contains(verbose, o => (string)o.BaseObject == "Tracking on 2 threads: one reading and decoding, 1 tracking");
    }

    [Fact]
    public void SortDurationOrdersNumerically()
    {
        var sorted = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Where-Object { $null -ne $_.duration } | Sort-Object duration | ForEach-Object duration");
        var values = sorted.Select(o => (double)o.BaseObject).ToList();
        Assert.True(values.Count >= 3);
        Assert.Equal(values.OrderBy(v => v).ToList(), values);
    }

    [Fact]
    public void GetChildItemOutputBindsLiteralPathByPropertyName()
    {
        var viaProvider = _s.Run("$ExecutionContext.InvokeProvider.Item.Get($Sample) | Read-ConnTrace -IgnoreChecksums");
        Assert.Equal(6, viaProvider.Count);
    }

    [Fact]
    public void PerFileTracksEachFileAlone()
    {
        File.Copy(ModuleSession.SamplePcap, Path.Combine(_s.TempDir, "a.pcap"));
        File.Copy(ModuleSession.SamplePcap, Path.Combine(_s.TempDir, "b.pcap"));
        var perFile = _s.Run("Read-ConnTrace -Path ./*.pcap -PerFile -IgnoreChecksums");
        Assert.Equal(12, perFile.Count);
        Assert.Equal(2, perFile.Count(r => (string)r.Properties["conn_state"].Value == "REJ"));
    }

    [Fact]
    public void SelectFirstStopsTheReadAndReleasesTheFile()
    {
        var copy = Path.Combine(_s.TempDir, "copy.pcap");
        File.Copy(ModuleSession.SamplePcap, copy);
        var first = _s.Run("Read-ConnTrace -LiteralPath ./copy.pcap | Select-Object -First 1");
        Assert.Single(first);
        if (OperatingSystem.IsLinux())
        {
            var open = Directory.GetFiles("/proc/self/fd").Select(fd => { try { return new FileInfo(fd).LinkTarget; } catch (IOException) { return null; } });
            Assert.DoesNotContain(copy, open);
        }
        using (new FileStream(copy, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
        File.Delete(copy);
        Assert.False(File.Exists(copy));
    }

    [Fact]
    public void MissingFileIsOneErrorAndTheOtherFilesGoOn()
    {
        var output = _s.Run("Read-ConnTrace -LiteralPath ./missing.pcap, $Sample -PerFile -IgnoreChecksums", out var errors);
        var error = Assert.Single(errors);
        Assert.Equal($"CaptureFileNotFound,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(Path.Combine(_s.TempDir, "missing.pcap"), error.TargetObject);
        Assert.Contains("missing.pcap", error.Exception.Message);
        Assert.Equal(6, output.Count);
    }

    [Fact]
    public void MissingPathWithoutWildcardsIsAnErrorButAnEmptyWildcardIsNot()
    {
        _s.Run("Read-ConnTrace -Path ./nothing-*.pcap", out var none);
        Assert.Empty(none);
        _s.Run("Read-ConnTrace -Path ./nothing.pcap", out var one);
        Assert.Equal($"CaptureFileNotFound,{Cmd}", Assert.Single(one).FullyQualifiedErrorId);
    }

    [Fact]
    public void TextFileIsNotACapture()
    {
        File.WriteAllText(Path.Combine(_s.TempDir, "notes.txt"), "this is not a capture file at all\n");
        _s.Run("Read-ConnTrace ./notes.txt", out var errors);
        var error = Assert.Single(errors);
        Assert.Equal($"CaptureFileNotACapture,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Contains("notes.txt", error.Exception.Message);
    }

    [Fact]
    public void TruncatedCaptureIsAnErrorAndTheConnectionsBeforeStillComeOut()
    {
        var bytes = File.ReadAllBytes(ModuleSession.SamplePcap);
        var cut = Path.Combine(_s.TempDir, "cut.pcap");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 20)]); // ends inside the last echo reply
        var output = _s.Run("Read-ConnTrace ./cut.pcap -IgnoreChecksums", out var errors);
        var error = Assert.Single(errors);
        Assert.Equal($"CaptureFileTruncated,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Equal(cut, error.TargetObject);
        Assert.Equal(6, output.Count);
        var echo = Assert.Single(output, r => (int)r.Properties["orig_p"].Value == 8);
        Assert.Equal(1L, echo.Properties["resp_pkts"].Value); // the second reply was cut off
        var sf = Assert.Single(output, r => (int)r.Properties["resp_p"].Value == 18080);
        Assert.Equal("ShADadfF", sf.Properties["history"].Value);
        Assert.Contains(output, r => (string)r.Properties["conn_state"].Value == "REJ");
    }

    [Fact]
    public void FilterKeepsOnlyMatchingPackets()
    {
        var udp = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums -Filter 'udp'");
        Assert.Equal(2, udp.Count);
        Assert.All(udp, r => Assert.Equal("udp", r.Properties["proto"].Value));
    }

    [Fact]
    public void BadFilterEndsTheCommandWithAClearError()
    {
        var error = _s.RunTerminating("Read-ConnTrace $Sample -Filter 'tcp port port'");
        Assert.Equal($"CaptureFilterInvalid,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal("tcp port port", error.TargetObject);
        Assert.Contains("tcp port port", error.Exception.Message);
    }

    [Fact]
    public void BadYamlEndsTheCommandNamingTheFile()
    {
        var yaml = Path.Combine(_s.TempDir, "bad.yaml");
        File.WriteAllText(yaml, "timeouts: [unclosed\n  - : :\n");
        var error = _s.RunTerminating("Read-ConnTrace $Sample -ConfigPath ./bad.yaml");
        Assert.Equal($"ConfigFileInvalid,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Equal(yaml, error.TargetObject);
        Assert.Contains("bad.yaml", error.Exception.Message);
    }

    [Fact]
    public void MissingConfigFileEndsTheCommand()
    {
        var error = _s.RunTerminating("Read-ConnTrace $Sample -ConfigPath ./none.yaml");
        Assert.Equal($"ConfigFileNotFound,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
    }

    [Theory]
    [InlineData("-LikelyServerPorts 443", "ConfigParameterInvalid")]
    [InlineData("-LikelyServerPorts 443/sctp", "ConfigParameterInvalid")]
    [InlineData("-LocalNets 10.0.0.0/33", "ConfigParameterInvalid")]
    public void BadDirectParametersEndTheCommand(string parameters, string id)
    {
        var error = _s.RunTerminating($"Read-ConnTrace $Sample {parameters}");
        Assert.Equal($"{id},{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }
}

public sealed class ReadConnTraceProgressTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    /// <summary>A classic pcap of <paramref name="count"/> UDP packets 10.0.0.1:1000+i%<paramref name="flows"/> -> 10.0.0.2:53, <paramref name="spacingUs"/> µs apart.</summary>
    /// <param name="trailer">Bytes after each IP packet in its frame (an Ethernet trailer: the file grows, the packets do not).</param>
    private static byte[] UdpCapture(int count, int flows = 50, long spacingUs = 1000, int trailer = 0)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(0xa1b2c3d4u); w.Write((ushort)2); w.Write((ushort)4); w.Write(0); w.Write(0u); w.Write(65535u); w.Write(1u);
        for (int i = 0; i < count; i++)
        {
            var frame = new byte[14 + 20 + 8 + 4 + trailer];
            frame[12] = 0x08; // IPv4
            var ip = frame.AsSpan(14);
            ip[0] = 0x45; ip[3] = 32; ip[8] = 64; ip[9] = 17;
            ip[12] = 10; ip[15] = 1; ip[16] = 10; ip[19] = 2;
            ushort sum = 0; uint acc = 0;
            for (int k = 0; k < 20; k += 2) acc += (uint)(ip[k] << 8 | ip[k + 1]);
            while (acc > 0xFFFF) acc = (acc & 0xFFFF) + (acc >> 16);
            sum = (ushort)~acc; ip[10] = (byte)(sum >> 8); ip[11] = (byte)sum;
            var udp = ip.Slice(20);
            int sport = 1000 + i % flows;
            udp[0] = (byte)(sport >> 8); udp[1] = (byte)sport; udp[3] = 53; udp[5] = 12; // checksum 0: none
            long us = i * spacingUs;
            w.Write(1_700_000_000u + (uint)(us / 1_000_000)); w.Write((uint)(us % 1_000_000)); w.Write((uint)frame.Length); w.Write((uint)frame.Length);
            w.Write(frame);
        }
        w.Flush();
        return ms.ToArray();
    }

    [Fact]
    public void LongReadsReportProgressWithPacketsAndConnections()
    {
        File.WriteAllBytes(Path.Combine(_s.TempDir, "udp.pcap"), UdpCapture(5000));
        using var ps = PowerShell.Create(_s.Runspace);
        ps.AddScript("Read-ConnTrace ./udp.pcap");
        var output = ps.Invoke();
        Assert.Equal(50, output.Count);
        Assert.All(output, r => Assert.Equal(100L, r.Properties["orig_pkts"].Value));
        var progress = ps.Streams.Progress.ToList();
        Assert.Contains(progress, p => p.Activity == "Read-ConnTrace" && p.StatusDescription.Contains("packets") && p.StatusDescription.Contains("bytes"));
        Assert.Equal(ProgressRecordType.Completed, progress[^1].RecordType);
    }

    /// <summary>
    /// Records that end mid-file come over from the engine's read thread in chunks; those still open come at the end.
    /// 300 one-packet UDP flows 1 s apart: the first 240 end mid-file (60 s without a packet), the last 60 at the end.
    /// Every one must come out once, in start order, on one thread, with one tracking thread, or sharded over two.
    /// Each frame carries a 4,000-byte trailer, so the file (1.2 MB) is read on the read thread, not inline.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RecordsEndingMidFileAndAtTheEndAllComeOutOnceInOrder(int threads)
    {
        var capture = UdpCapture(300, flows: 300, spacingUs: 1_000_000, trailer: 4000);
        Assert.True(capture.Length > 1 << 20); // BackgroundFileRead.InlineBelow: smaller files are read inline
        File.WriteAllBytes(Path.Combine(_s.TempDir, "spread.pcap"), capture);
        var output = _s.Run($"Read-ConnTrace ./spread.pcap -ThreadCount {threads}");
        Assert.Equal(300, output.Count);
        var ports = output.Select(r => (int)r.Properties["orig_p"].Value).ToList();
        Assert.Equal(Enumerable.Range(1000, 300), ports);
        Assert.All(output, r => Assert.Equal(1L, r.Properties["orig_pkts"].Value));
        Assert.Equal(300, output.Select(r => (string)r.Properties["uid"].Value).Distinct().Count());
    }
}

public sealed class ReadConnTraceTraceTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    /// <summary>Splits a classic pcap after <paramref name="packets"/> packets into two files with the same header.</summary>
    private static (byte[] First, byte[] Second) Split(byte[] pcap, int packets)
    {
        int offset = 24;
        for (int i = 0; i < packets; i++)
            offset += 16 + BitConverter.ToInt32(pcap, offset + 8);
        var first = pcap[..offset];
        var second = pcap[..24].Concat(pcap[offset..]).ToArray();
        return (first, second);
    }

    [Fact]
    public void AConnectionSpanningRotatedFilesIsOneRecordUnlessPerFile()
    {
        var (first, second) = Split(File.ReadAllBytes(ModuleSession.SamplePcap), 5); // inside the accepted TCP connection
        File.WriteAllBytes(Path.Combine(_s.TempDir, "part1.pcap"), first);
        File.WriteAllBytes(Path.Combine(_s.TempDir, "part2.pcap"), second);

        var trace = _s.Run("Read-ConnTrace ./part1.pcap, ./part2.pcap -IgnoreChecksums | Where-Object resp_p -eq 18080");
        var sf = Assert.Single(trace);
        Assert.Equal("SF", sf.Properties["conn_state"].Value);
        Assert.Equal("ShADadfF", sf.Properties["history"].Value);
        Assert.Equal(5L, sf.Properties["orig_pkts"].Value);
        Assert.Equal(5L, sf.Properties["resp_pkts"].Value);

        var perFile = _s.Run("Read-ConnTrace ./part1.pcap, ./part2.pcap -IgnoreChecksums -PerFile | Where-Object { $_.resp_p -eq 18080 -or $_.orig_p -eq 18080 }");
        Assert.Equal(2, perFile.Count);
        Assert.DoesNotContain(perFile, r => (string)r.Properties["conn_state"].Value! == "SF" && (long?)r.Properties["orig_pkts"].Value == 5);
    }

    [Fact]
    public void EveryFieldPrintsReadablyForExportCsv()
    {
        // Export-Csv writes each property's ToString(): none may be a type name.
        var conns = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums");
        var info = conns[0].BaseObject;
        var properties = info.GetType().GetProperties().Select(p => p.Name).ToList();
        Assert.Equal(ConnInfoFieldNames, properties);
        foreach (var c in conns)
            foreach (var p in c.Properties)
                Assert.DoesNotMatch("^System\\.", p.Value?.ToString() ?? "");
    }

    private static readonly string[] ConnInfoFieldNames =
    [
        "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "proto", "service", "duration", "orig_bytes",
        "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts",
        "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto",
    ];
}

using System.Management.Automation;

namespace ConnTrack.Module.Tests;

public sealed class ExportConnLogTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    private const string Cmd = "ConnTrack.Commands.ExportConnLogCommand";

    [Fact]
    public void ZeekLogRoundTripsThroughImport()
    {
        var written = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path ./conn.log");
        Assert.Equal(Path.Combine(_s.TempDir, "conn.log"), Assert.IsType<FileInfo>(Assert.Single(written).BaseObject).FullName);
        var lines = File.ReadAllLines(Path.Combine(_s.TempDir, "conn.log"));
        Assert.Equal("#separator \\x09", lines[0]);
        Assert.StartsWith("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto", lines[6]);
        Assert.StartsWith("#close", lines[^1]);
        Assert.Equal(6, lines.Count(l => !l.StartsWith('#')));

        var original = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums");
        var imported = _s.Run("Import-ConnLog ./conn.log");
        Assert.Equal(original.Count, imported.Count);
        for (int i = 0; i < original.Count; i++)
            foreach (var field in new[] { "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "proto", "duration", "orig_bytes",
                                          "resp_bytes", "conn_state", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "ip_proto" })
                Assert.Equal(original[i].Properties[field].Value, imported[i].Properties[field].Value);
    }

    [Fact]
    public void AConnectionBuiltInPowerShellIsWrittenAsItsFieldsSay()
    {
        var lines = _s.Run(
            "[ConnTrack.Model.ConnInfo]@{ ts = [datetime]::new(2026, 11, 23, 10, 0, 0, [DateTimeKind]::Utc); uid = 'CManual1'; " +
            "orig_h = '10.0.0.1'; orig_p = 51000; resp_h = '2001:db8::2'; resp_p = 443; proto = 'tcp'; duration = 1.5; " +
            "orig_bytes = 10; resp_bytes = 20; conn_state = 'SF'; history = 'ShADadFf'; orig_pkts = 5; resp_pkts = 4; ip_proto = 6 } " +
            "| Export-ConnLog -Format Csv");
        Assert.Equal(2, lines.Count);
        Assert.Equal("1795428000.000000,CManual1,10.0.0.1,51000,2001:db8::2,443,tcp,,1.500000,10,20,SF,,,0,ShADadFf,5,,4,,,6",
                     (string)lines[1].BaseObject);
    }

    [Fact]
    public void ImpossibleValuesAreRefusedWhenSet()
    {
        _s.Run("$c = [ConnTrack.Model.ConnInfo]::new()", out var none);
        Assert.Empty(none);
        _s.Run("$c.orig_p = 70000", out var port);
        Assert.Contains("must be a port number", Assert.Single(port).Exception.InnerException!.Message);
        _s.Run("$c.orig_bytes = -1", out var negative);
        Assert.Contains("cannot be negative", Assert.Single(negative).Exception.InnerException!.Message);
        _s.Run("$c.duration = [double]::NaN", out var nan);
        Assert.Contains("must be a number of seconds", Assert.Single(nan).Exception.InnerException!.Message);
        var kept = _s.Run("$c.orig_p = 65535; $c.orig_bytes = 0; $c.orig_p; $c.orig_bytes");
        Assert.Equal(new object[] { 65535, 0L }, kept.Select(o => o.BaseObject));
    }

    [Fact]
    public void JsonGoesDownThePipelineOneObjectPerLine()
    {
        var lines = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Format Json");
        Assert.Equal(6, lines.Count);
        Assert.All(lines, l => Assert.StartsWith("{\"ts\":", (string)l.BaseObject));
        Assert.Contains(lines, l => ((string)l.BaseObject).Contains("\"conn_state\":\"REJ\""));
    }

    [Fact]
    public void CsvHasOneColumnPerField()
    {
        var lines = _s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Format Csv");
        Assert.Equal(7, lines.Count);
        Assert.StartsWith("ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,service,duration", (string)lines[0].BaseObject);
        Assert.All(lines, l => Assert.False(((string)l.BaseObject).EndsWith('\r'), "a pipeline line keeps its line end"));
    }

    [Fact]
    public void NoClobberRefusesAnExistingFileAndWhatIfWritesNothing()
    {
        File.WriteAllText(Path.Combine(_s.TempDir, "exists.log"), "keep me");
        var error = _s.RunTerminating("Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path ./exists.log -NoClobber");
        Assert.Equal($"LogFileExists,{Cmd}", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, error.CategoryInfo.Category);
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(_s.TempDir, "exists.log")));

        _s.Run("Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path ./whatif.log -WhatIf");
        Assert.False(File.Exists(Path.Combine(_s.TempDir, "whatif.log")));
    }
}

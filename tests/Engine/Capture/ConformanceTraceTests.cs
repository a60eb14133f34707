using System.Diagnostics;
using System.IO.Compression;
using ConnTrack.Engine.Capture;
using Xunit;
using Xunit.Abstractions;

namespace ConnTrack.Engine.Tests.Capture;

/// <summary>Reads every trace of the Zeek conformance corpus and checks the packet count against tcpdump.</summary>
public class ConformanceTraceTests
{
    private readonly ITestOutputHelper _output;

    public ConformanceTraceTests(ITestOutputHelper output) => _output = output;

    /// <summary>The <c>shared/conformance/traces</c> folder found walking up from the test binaries, or null.</summary>
    internal static string? FindTraces()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "conformance", "traces");
            if (Directory.Exists(candidate))
                return candidate;
        }
        return null;
    }

    [Fact]
    public void EveryConformanceTraceReadsCompletelyAndMatchesTcpdump()
    {
        string? traces = FindTraces();
        if (traces is null)
        {
            _output.WriteLine("SKIPPED: no shared/conformance/traces folder beside the repository");
            return;
        }
        string? tcpdump = FindTcpdump();
        if (tcpdump is null)
            _output.WriteLine("tcpdump not found: packet counts are not compared");

        var files = Directory.GetFiles(traces, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(files);
        var failures = new List<string>();
        long totalPackets = 0;
        int compared = 0;
        foreach (var file in files)
        {
            long count = 0;
            try
            {
                using var reader = CaptureReader.Open(file);
                while (reader.TryReadNext(out var frame))
                {
                    count++;
                    if (frame.Data.Length > frame.OriginalLength && frame.OriginalLength != 0)
                        _output.WriteLine($"{file}: packet {count} has caplen {frame.Data.Length} > len {frame.OriginalLength}");
                }
                Assert.Equal(reader.FileLength, reader.BytesRead);
            }
            catch (Exception e)
            {
                failures.Add($"{file}: {e.GetType().Name}: {e.Message}");
                continue;
            }
            totalPackets += count;
            if (tcpdump is not null)
            {
                var (expected, error) = TcpdumpCount(tcpdump, file);
                if (error is not null)
                {
                    // this libpcap gives up on the file (Zeek's may not): nothing to compare with
                    _output.WriteLine($"{file}: tcpdump stopped with \"{error}\" after {expected} packets; we read {count}");
                    continue;
                }
                compared++;
                if (expected != count)
                    failures.Add($"{file}: read {count} packets, tcpdump counts {expected}");
            }
        }
        _output.WriteLine($"{files.Length} files, {totalPackets} packets, {compared} compared with tcpdump");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static string? FindTcpdump()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Concat(["/usr/sbin", "/usr/bin", "/sbin"]))
        {
            if (dir.Length == 0)
                continue;
            string candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "tcpdump.exe" : "tcpdump");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>tcpdump's own packet count (<c>--count</c>); gzip input is decompressed to a temporary file first.</summary>
    private static (long Count, string? Error) TcpdumpCount(string tcpdump, string file)
    {
        string input = file;
        string? temp = null;
        if (IsGzip(file))
        {
            temp = Path.Combine(Path.GetTempPath(), $"conntrack-{Guid.NewGuid():N}.cap");
            using (var src = new GZipStream(File.OpenRead(file), CompressionMode.Decompress))
            using (var dst = File.Create(temp))
                src.CopyTo(dst);
            input = temp;
        }
        try
        {
            var psi = new ProcessStartInfo(tcpdump) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("--count");
            psi.ArgumentList.Add("-nn");
            psi.ArgumentList.Add("-r");
            psi.ArgumentList.Add(input);
            using var p = Process.Start(psi)!;
            var stdoutTask = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            string stdout = stdoutTask.Result;
            p.WaitForExit();
            // "N packets" on stdout; tcpdump also reports a truncated file on stderr after counting
            string? error = stderr.Split('\n').FirstOrDefault(l => l.StartsWith("tcpdump: ", StringComparison.Ordinal));
            foreach (var line in (stdout + "\n" + stderr).Split('\n'))
            {
                var parts = line.Trim().Split(' ');
                if (parts.Length == 2 && parts[1] is "packets" or "packet" && long.TryParse(parts[0], out long n))
                    return (n, error);
            }
            throw new InvalidOperationException($"tcpdump gave no count for {file}: {stderr}");
        }
        finally
        {
            if (temp is not null)
                File.Delete(temp);
        }
    }

    private static bool IsGzip(string file)
    {
        using var f = File.OpenRead(file);
        return f.ReadByte() == 0x1f && f.ReadByte() == 0x8b;
    }
}

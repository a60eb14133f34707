using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ConnTrack.Bench.Measure;

/// <summary>Describes the machine a run happened on, for RESULTS.md.</summary>
public static class Machine
{
    public static string CpuModel() =>
        ReadProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    public static string MemoryTotal()
    {
        var kb = ReadProcField("/proc/meminfo", "MemTotal");
        if (kb is null)
            return "unknown";
        return $"{long.Parse(kb.Split(' ')[0]) / 1024.0 / 1024.0:F1} GiB";
    }

    public static string Describe() =>
        $"{Environment.ProcessorCount} logical CPUs ({CpuModel()}), {MemoryTotal()} RAM, " +
        $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    /// <summary>The load average when the benchmark started (set by the runner).</summary>
    public static string? LoadAtStart { get; set; }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>First line of a tool's version output, or null when it is not installed.</summary>
    public static string? ToolVersion(string program, string arg)
    {
        var exe = ExternalTool.Which(program);
        if (exe is null)
            return null;
        try
        {
            var psi = new ProcessStartInfo(exe, arg) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => l.Length > 0);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string? ReadProcField(string file, string field)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}

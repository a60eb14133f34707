using System.Diagnostics;
using System.Globalization;

namespace ConnTrack.Bench.Measure;

/// <summary>Times an external program (tcpdump, tshark, argus) with GNU time: wall, user, system, max RSS.</summary>
public static class ExternalTool
{
    public static string? Which(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin" })
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>Runs <paramref name="program"/> once; its output is drained and dropped.</summary>
    public static ProbeResult Run(string name, string program, IReadOnlyList<string> args)
    {
        var exe = Which(program);
        if (exe is null)
            return ProbeResult.Failed(name, $"{program} is not installed (bench/setup.sh installs it)");
        var gnuTime = File.Exists("/usr/bin/time") ? "/usr/bin/time" : null;
        var statsFile = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo(gnuTime ?? exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (gnuTime is not null)
            {
                psi.ArgumentList.Add("-o");
                psi.ArgumentList.Add(statsFile);
                psi.ArgumentList.Add("-f");
                psi.ArgumentList.Add("%e %U %S %M");
                psi.ArgumentList.Add(exe);
            }
            foreach (var a in args)
                psi.ArgumentList.Add(a);

            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            sw.Stop();
            string err = stderr.Result;
            _ = stdout.Result;
            if (p.ExitCode != 0)
                return ProbeResult.Failed(name, $"{program} exited with {p.ExitCode}: {Tail(err)}");

            var result = new ProbeResult { Name = name, Ok = true, Seconds = sw.Elapsed.TotalSeconds };
            if (gnuTime is not null)
            {
                var parts = File.ReadAllText(statsFile).Trim().Split('\n')[^1].Split(' ');
                result.Seconds = double.Parse(parts[0], CultureInfo.InvariantCulture);
                result.UserSeconds = double.Parse(parts[1], CultureInfo.InvariantCulture);
                result.SystemSeconds = double.Parse(parts[2], CultureInfo.InvariantCulture);
                result.PeakRss = long.Parse(parts[3], CultureInfo.InvariantCulture) * 1024;
            }
            return result;
        }
        finally
        {
            File.Delete(statsFile);
        }
    }

    private static string Tail(string s)
    {
        s = s.Trim();
        return s.Length <= 300 ? s : "..." + s[^300..];
    }
}

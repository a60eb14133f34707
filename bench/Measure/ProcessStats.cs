using System.Diagnostics;

namespace ConnTrack.Bench.Measure;

/// <summary>Process-level numbers read from /proc (Linux) with a fallback elsewhere.</summary>
public static class ProcessStats
{
    /// <summary>Peak resident set size of this process in bytes (VmHWM).</summary>
    public static long PeakRss()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    public static long CurrentRss()
    {
        using var p = Process.GetCurrentProcess();
        return p.WorkingSet64;
    }

    /// <summary>Samples the managed heap size in the background until disposed, keeping the largest value.</summary>
    public sealed class HeapSampler : IDisposable
    {
        private readonly Timer _timer;
        private long _peak;

        public HeapSampler(int periodMs = 20)
        {
            _timer = new Timer(_ => Sample(), null, 0, periodMs);
        }

        public long Peak => Interlocked.Read(ref _peak);

        public void Sample()
        {
            long now = GC.GetTotalMemory(false);
            long seen;
            while (now > (seen = Interlocked.Read(ref _peak)))
                Interlocked.CompareExchange(ref _peak, now, seen);
        }

        public void Dispose()
        {
            _timer.Dispose();
            Sample();
        }
    }
}

using System.Diagnostics;
using ConnTrack.Engine;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Parallel;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// The engine alone over a capture file: ConnTraceRunner (one thread) or ParallelTraceRunner (flows sharded
/// over <c>shards</c> worker threads), records counted, fingerprinted and dropped.
/// </summary>
public static class EngineProbe
{
    /// <summary>The row name of the parallel engine with <paramref name="shards"/> tracking threads (and its reading one).</summary>
    public static string ParallelName(int shards) => $"engine, parallel ({shards} tracking thread{(shards == 1 ? "" : "s")} and a reading one)";

    /// <param name="shards">0: the one-thread ConnTraceRunner; 1 or more: ParallelTraceRunner with that many shards.</param>
    public static ProbeResult Run(string path, int shards = 0)
    {
        string name = shards == 0 ? "engine" : ParallelName(shards);
        var result = new ProbeResult { Name = name };
        try
        {
            var fingerprint = new RecordFingerprint();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            using var self = Process.GetCurrentProcess();
            var user0 = self.UserProcessorTime;
            var sys0 = self.PrivilegedProcessorTime;
            long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            var sampler = new ProcessStats.HeapSampler();
            var sw = Stopwatch.StartNew();
            // Made inside the timed part, as a caller makes it just before reading (a runner starts work when made:
            // the one-thread runner's background compile of the per-packet methods).
            using ITraceRunner runner = shards == 0
                ? new ConnTraceRunner(new ConnTrackOptions())
                : new ParallelTraceRunner(new ConnTrackOptions(), shards);
            foreach (var record in runner.ReadFile(path))
                fingerprint.Add(record);
            foreach (var record in runner.Finish())
                fingerprint.Add(record);
            sw.Stop();
            sampler.Dispose();
            long alloc1 = GC.GetTotalAllocatedBytes(precise: true);
            self.Refresh();

            result.Ok = true;
            result.Seconds = sw.Elapsed.TotalSeconds;
            result.Packets = runner.PacketsRead;
            result.Records = fingerprint.Count;
            result.AllocatedBytes = alloc1 - alloc0;
            result.PeakManagedHeap = sampler.Peak;
            result.PeakRss = ProcessStats.PeakRss();
            result.UserSeconds = (self.UserProcessorTime - user0).TotalSeconds;
            result.SystemSeconds = (self.PrivilegedProcessorTime - sys0).TotalSeconds;
            result.Gen0 = GC.CollectionCount(0) - g0;
            result.Gen1 = GC.CollectionCount(1) - g1;
            result.Gen2 = GC.CollectionCount(2) - g2;
            result.Notes["fingerprint"] = fingerprint.Value;
            result.Notes["weirds"] = string.Join(", ", runner.Weirds.All.OrderByDescending(kv => kv.Value).Take(6).Select(kv => $"{kv.Key}={kv.Value}"));
        }
        catch (NotImplementedException e)
        {
            return ProbeResult.Failed(name, "engine not implemented on this branch yet: " + e.Message);
        }
        return result;
    }
}

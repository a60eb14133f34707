using System.Diagnostics;
using ConnTrack.Bench.Generator;
using ConnTrack.Engine;
using ConnTrack.Engine.Config;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// Managed heap per tracked connection: N SYNs with distinct tuples, 1 µs apart (so no timer fires), fed
/// straight into the engine; the live heap is measured with every connection still open.
/// </summary>
public static class MemoryProbe
{
    public static ProbeResult Run(long connections, ulong seed)
    {
        var result = new ProbeResult { Name = "memory per connection" };
        try
        {
            var options = new ConnTrackOptions();
            if (options.MaxConnections < connections)
                options.MaxConnections = (int)connections;
            var runner = new ConnTraceRunner(options);
            var sink = new EngineSink(runner);
            var generator = new CaptureGenerator(new GeneratorOptions { Packets = connections, Concurrency = 1, Seed = seed }, sink);
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var sw = Stopwatch.StartNew();
            var stats = generator.RunSynFlood(connections);
            sw.Stop();
            sink.Drain();
            long after = GC.GetTotalMemory(forceFullCollection: true);
            int open = runner.OpenConnections;
            GC.KeepAlive(generator);
            GC.KeepAlive(runner);

            result.Ok = true;
            result.Seconds = sw.Elapsed.TotalSeconds;
            result.Packets = stats.Packets;
            result.Records = sink.Records;
            result.PeakRss = ProcessStats.PeakRss();
            result.PeakManagedHeap = after;
            result.Notes["open"] = open.ToString();
            result.Notes["heapBefore"] = before.ToString();
            result.Notes["heapAfter"] = after.ToString();
            result.Notes["weirds"] = string.Join(", ", runner.Weirds.All.OrderByDescending(kv => kv.Value).Take(6).Select(kv => $"{kv.Key}={kv.Value}"));
            result.Notes["bytesPerConnection"] = open > 0 ? ((after - before) / (double)open).ToString("F1") : "n/a";
        }
        catch (NotImplementedException e)
        {
            return ProbeResult.Failed(result.Name, "engine not implemented on this branch yet: " + e.Message);
        }
        return result;
    }
}

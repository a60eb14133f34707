using System.Diagnostics;
using System.Globalization;
using ConnTrack.Bench.Generator;
using ConnTrack.Engine;
using ConnTrack.Engine.Config;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// Managed heap per tracked connection, in three cases, each with a fresh engine, every connection still open when
/// the live heap is measured (GC.GetTotalMemory(true) before and after, divided by the open connections):
/// N IPv4 SYNs with distinct tuples (the target's case), N IPv6 SYNs, and N/5 (at most 200,000) established IPv4
/// connections that carried data both ways (handshake, a segment each way, acks). Packets are 1 µs apart, so no
/// timer fires.
/// </summary>
public static class MemoryProbe
{
    public static ProbeResult Run(long connections, ulong seed)
    {
        var result = new ProbeResult { Name = "memory per connection" };
        try
        {
            var sw = Stopwatch.StartNew();
            var v4 = Measure(connections, seed, ipv6Share: 0, established: false);
            sw.Stop();
            var v6 = Measure(connections, seed, ipv6Share: 1, established: false);
            long establishedCount = Math.Min(connections / 5, 200_000);
            var est = Measure(establishedCount, seed, ipv6Share: 0, established: true);

            result.Ok = true;
            result.Seconds = sw.Elapsed.TotalSeconds;
            result.Packets = v4.Packets;
            result.Records = v4.Records;
            result.PeakRss = ProcessStats.PeakRss();
            result.PeakManagedHeap = Math.Max(v4.After, Math.Max(v6.After, est.After));
            result.Notes["open"] = v4.Open.ToString(CultureInfo.InvariantCulture);
            result.Notes["heapBefore"] = v4.Before.ToString(CultureInfo.InvariantCulture);
            result.Notes["heapAfter"] = v4.After.ToString(CultureInfo.InvariantCulture);
            result.Notes["weirds"] = v4.Weirds;
            result.Notes["bytesPerConnection"] = v4.PerConnection;
            result.Notes["ipv6Open"] = v6.Open.ToString(CultureInfo.InvariantCulture);
            result.Notes["ipv6BytesPerConnection"] = v6.PerConnection;
            result.Notes["establishedOpen"] = est.Open.ToString(CultureInfo.InvariantCulture);
            result.Notes["establishedPackets"] = est.Packets.ToString(CultureInfo.InvariantCulture);
            result.Notes["establishedBytesPerConnection"] = est.PerConnection;
        }
        catch (NotImplementedException e)
        {
            return ProbeResult.Failed(result.Name, "engine not implemented on this branch yet: " + e.Message);
        }
        return result;
    }

    private sealed record Case(long Before, long After, int Open, long Packets, long Records, string Weirds)
    {
        public string PerConnection => Open > 0 ? ((After - Before) / (double)Open).ToString("F1", CultureInfo.InvariantCulture) : "n/a";
    }

    private static Case Measure(long connections, ulong seed, double ipv6Share, bool established)
    {
        var options = new ConnTrackOptions();
        if (options.MaxConnections < connections)
            options.MaxConnections = (int)connections;
        var runner = new ConnTraceRunner(options);
        var sink = new EngineSink(runner);
        var generator = new CaptureGenerator(
            new GeneratorOptions { Packets = long.MaxValue, Concurrency = 1, Seed = seed, Ipv6Share = ipv6Share }, sink);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var stats = established ? generator.RunEstablished(connections) : generator.RunSynFlood(connections);
        sink.Drain();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        int open = runner.OpenConnections;
        var weirds = string.Join(", ", runner.Weirds.All.OrderByDescending(kv => kv.Value).Take(6).Select(kv => $"{kv.Key}={kv.Value}"));
        GC.KeepAlive(generator);
        GC.KeepAlive(runner);
        return new Case(before, after, open, stats.Packets, sink.Records, weirds);
    }
}

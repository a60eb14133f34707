using System.Diagnostics;
using System.Globalization;
using ConnTrack.Bench.Generator;
using ConnTrack.Engine;
using ConnTrack.Engine.Config;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// A very large capture generated on the fly straight into the engine (no file): connections come and go,
/// and the live managed heap is sampled every ~1 M packets to show that memory stays flat.
/// </summary>
public static class StreamProbe
{
    public sealed record Sample(double GigabytesIn, long LiveHeap, long Rss, int Open, long Records);

    public static ProbeResult Run(long pcapBytes, int concurrency, ulong seed)
    {
        var result = new ProbeResult { Name = "streaming" };
        var samples = new List<Sample>();
        try
        {
            var runner = new ConnTraceRunner(new ConnTrackOptions());
            var sink = new EngineSink(runner);
            // About 64 samples over the run, each after a full collection (live heap only).
            long every = Math.Max(pcapBytes / 64, 1 << 20);
            long nextSample = every;
            void Tick(long bytesIn)
            {
                if (bytesIn < nextSample)
                    return;
                nextSample += every;
                sink.Drain();
                samples.Add(new Sample(bytesIn / 1e9, GC.GetTotalMemory(true), ProcessStats.CurrentRss(), runner.OpenConnections, sink.Records));
            }
            var sw = Stopwatch.StartNew();
            var wrapped = new ByteCountingSink(sink, Tick);
            var generator = new CaptureGenerator(
                new GeneratorOptions { Packets = long.MaxValue, MaxPcapBytes = pcapBytes, Concurrency = concurrency, Seed = seed }, wrapped);
            var stats = generator.Run();
            foreach (var _ in runner.Finish())
            {
            }
            sw.Stop();
            sink.Drain();

            result.Ok = true;
            result.Seconds = sw.Elapsed.TotalSeconds;
            result.Packets = stats.Packets;
            result.Records = sink.Records;
            result.PeakRss = ProcessStats.PeakRss();
            result.PeakManagedHeap = samples.Count > 0 ? samples.Max(s => s.LiveHeap) : 0;
            result.Notes["gigabytes"] = (stats.PcapBytes / 1e9).ToString("F2", CultureInfo.InvariantCulture);
            result.Notes["connections"] = stats.Connections.ToString(CultureInfo.InvariantCulture);
            result.Notes["traceSeconds"] = ((stats.LastTimestampNs - stats.FirstTimestampNs) / 1e9).ToString("F1", CultureInfo.InvariantCulture);
            result.Notes["samples"] = string.Join(";", samples.Select(s =>
                string.Create(CultureInfo.InvariantCulture, $"{s.GigabytesIn:F2},{s.LiveHeap},{s.Rss},{s.Open},{s.Records}")));
        }
        catch (NotImplementedException e)
        {
            return ProbeResult.Failed(result.Name, "engine not implemented on this branch yet: " + e.Message);
        }
        return result;
    }

    public static List<Sample> ParseSamples(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(s =>
        {
            var p = s.Split(',');
            return new Sample(double.Parse(p[0], CultureInfo.InvariantCulture), long.Parse(p[1], CultureInfo.InvariantCulture),
                long.Parse(p[2], CultureInfo.InvariantCulture), int.Parse(p[3], CultureInfo.InvariantCulture), long.Parse(p[4], CultureInfo.InvariantCulture));
        }).ToList();

    private sealed class ByteCountingSink(IFrameSink inner, Action<long> report) : IFrameSink
    {
        private long _bytes = PcapFileSink.GlobalHeaderLength;

        public void Write(long timestampNs, ReadOnlySpan<byte> frame)
        {
            _bytes += PcapFileSink.RecordHeaderLength + frame.Length;
            inner.Write(timestampNs, frame);
            report(_bytes);
        }
    }
}

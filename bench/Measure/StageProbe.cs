using System.Diagnostics;
using System.Globalization;
using ConnTrack.Engine;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// Where the engine's time goes: the same file read by the capture reader alone (copied through a buffer, the
/// default, then mapped in place under a read lease, as with memory_map_files: true), then reader + decoder
/// (with and without checksum verification), then the whole pipeline; and apart, the tracker alone on packets
/// decoded beforehand into memory (so the tracking's share is measured, not inferred from the difference).
/// Each stage is the best of <c>reps</c> runs in this process (after one warm-up pass).
/// </summary>
public static class StageProbe
{
    public static ProbeResult Run(string path, int reps)
    {
        var result = new ProbeResult { Name = "stages" };
        try
        {
            double readBuffered = Best(reps, () => ReadOnly(path, map: false));
            double read = Best(reps, () => ReadOnly(path, map: true));
            double decodeNoSum = Best(reps, () => Decode(path, verify: false));
            double decode = Best(reps, () => Decode(path, verify: true));
            double full = Best(reps, () => Full(path, ignoreChecksums: false));
            double fullNoSum = Best(reps, () => Full(path, ignoreChecksums: true));
            var decoded = DecodeAll(path);
            double track = Best(reps, () => TrackOnly(decoded));
            decoded = null;
            result.Ok = true;
            result.Seconds = full;
            result.Notes["readBuffered"] = readBuffered.ToString("F3", CultureInfo.InvariantCulture);
            result.Notes["read"] = read.ToString("F3", CultureInfo.InvariantCulture);
            result.Notes["decodeNoChecksums"] = decodeNoSum.ToString("F3", CultureInfo.InvariantCulture);
            result.Notes["decode"] = decode.ToString("F3", CultureInfo.InvariantCulture);
            result.Notes["full"] = full.ToString("F3", CultureInfo.InvariantCulture);
            result.Notes["fullNoChecksums"] = fullNoSum.ToString("F3", CultureInfo.InvariantCulture);
            result.Notes["trackerAlone"] = track.ToString("F3", CultureInfo.InvariantCulture);
        }
        catch (NotImplementedException e)
        {
            return ProbeResult.Failed(result.Name, "engine not implemented on this branch yet: " + e.Message);
        }
        return result;
    }

    private static double Best(int reps, Func<long> run)
    {
        run(); // warm-up: JIT to the optimised tier, file in the page cache
        double best = double.MaxValue;
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            GC.KeepAlive(run());
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <param name="map">True: mapped in place under a read lease (memory_map_files: true); false: copied through a buffer (the default).</param>
    private static long ReadOnly(string path, bool map)
    {
        using var reader = CaptureReader.Open(path, map);
        long n = 0;
        while (reader.TryReadNext(out var frame))
            n += frame.Data.Length;
        return n;
    }

    private static long Decode(string path, bool verify)
    {
        var decoder = new PacketDecoder(verify, new WeirdCounters());
        using var reader = CaptureReader.Open(path);
        long n = 0;
        while (reader.TryReadNext(out var frame))
        {
            if (decoder.Decode(frame, out _) == DecodeStatus.Ok)
                n++;
        }
        return n;
    }

    /// <summary>Every trackable packet of the file decoded into one array (~120 bytes a packet).</summary>
    private static PacketSummary[] DecodeAll(string path)
    {
        var decoder = new PacketDecoder(verifyChecksums: true, new WeirdCounters());
        var packets = new List<PacketSummary>();
        using var reader = CaptureReader.Open(path);
        while (reader.TryReadNext(out var frame))
        {
            if (decoder.Decode(frame, out var summary) == DecodeStatus.Ok)
                packets.Add(summary);
        }
        return packets.ToArray();
    }

    /// <summary>
    /// The tracker over decoded packets as the one-thread runner feeds it (16 looked up together, then tracked),
    /// records counted and dropped. The summaries come from memory here, not from the cache as behind the
    /// decoder, so the first read of each costs a little more than in the whole pipeline.
    /// </summary>
    private static long TrackOnly(PacketSummary[] packets)
    {
        const int Window = 16;
        var sink = new CountingSink();
        var tracker = new ConnTracker(new ConnTrackOptions(), sink);
        var which = new int[Window];
        var hints = new int[Window];
        for (int start = 0; start < packets.Length; start += Window)
        {
            int count = Math.Min(Window, packets.Length - start);
            for (int i = 0; i < count; i++)
                which[i] = start + i;
            tracker.PrefetchConnections(packets, which.AsSpan(0, count), hints);
            for (int i = 0; i < count; i++)
                tracker.ProcessLookedAhead(packets[start + i], i, hints[i]);
        }
        tracker.FlushAll();
        return sink.Count;
    }

    private sealed class CountingSink : IConnSink
    {
        public long Count;
        public void Write(ConnRecord record) => Count++;
    }

    private static long Full(string path, bool ignoreChecksums)
    {
        var runner = new ConnTraceRunner(new ConnTrackOptions { IgnoreChecksums = ignoreChecksums });
        long n = 0;
        foreach (var _ in runner.ReadFile(path))
            n++;
        foreach (var _ in runner.Finish())
            n++;
        return n;
    }
}

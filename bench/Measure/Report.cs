using System.Globalization;
using System.Text;
using ConnTrack.Bench.Generator;

namespace ConnTrack.Bench.Measure;

/// <summary>The table of ratios, printed and written to bench/RESULTS.md.</summary>
public sealed class Report(
    BenchArgs args,
    DateTime startedUtc,
    string capture,
    long fileBytes,
    GeneratorStats? generated,
    double generateSeconds,
    ProbeResult tcpdump,
    ProbeResult engine,
    ProbeResult parallel,
    ProbeResult cmdlet,
    ProbeResult cmdletAuto,
    int autoThreads,
    ProbeResult pair,
    IReadOnlyList<ProbeResult> peers,
    ProbeResult? memory,
    ProbeResult? stream,
    string? module,
    ProbeResult? stages)
{
    /// <summary>Every round's runs of the rows the targets compare (null when not run in rounds).</summary>
    public RoundSamples? Rounds { get; init; }

    /// <summary>Read-ConnTrace over the same packets in one file and in <see cref="RotatedFiles.Files"/> (null: not run).</summary>
    public ProbeResult? RotatedWhole { get; init; }
    public ProbeResult? RotatedParts { get; init; }

    /// <summary>The row of two one-thread engines run at once in two processes (<see cref="Bench.ChildPair"/>).</summary>
    public const string PairName = "2 one-thread engines at once (2 processes, nothing shared)";

    private long Packets => engine.Ok ? engine.Packets : generated?.Packets ?? PcapCount.Count(capture);
    private long Connections => engine.Ok ? engine.Records : generated?.Connections ?? 0;

    public string Command =>
        "dotnet run -c Release --project bench" + (args.Raw.Length > 0 ? " -- " + string.Join(' ', args.Raw) : "");

    public string Table()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| Measurement | Wall s (best of {args.Reps}) | CPU s | Packets/s | Connections/s | MB/s | Speed vs tcpdump | Peak RSS | Notes |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        sb.AppendLine(Row(tcpdump));
        sb.AppendLine(Row(engine));
        sb.AppendLine(Row(parallel, Compare(parallel, engine, "the one-thread engine") + ParallelSameText()));
        sb.AppendLine(Row(cmdlet, Compare(cmdlet, engine, "the one-thread engine")));
        sb.AppendLine(Row(cmdletAuto, autoThreads > 1
            ? Compare(cmdletAuto, parallel, "the parallel engine") + "; " + Compare(cmdletAuto, cmdlet, "-ThreadCount 1") + Paired(Rounds?.CmdletAuto, Rounds?.Cmdlet)
            : Compare(cmdletAuto, engine, "the one-thread engine")));
        sb.AppendLine(PairRow());
        foreach (var r in peers)
            sb.AppendLine(Row(r));
        return sb.ToString();
    }

    /// <summary>
    /// The pair reads the file twice: its rates count both copies' packets and bytes. Its speed-up is the ceiling
    /// any split of the one-thread engine's work over two cores could reach here.
    /// </summary>
    private string PairRow()
    {
        if (!pair.Ok)
            return $"| {PairName} | – | – | – | – | – | – | – | not measured: {Escape(pair.Error)} |";
        double pps = 2.0 * Packets / pair.Seconds, cps = 2.0 * Connections / pair.Seconds, mbps = 2.0 * fileBytes / 1e6 / pair.Seconds;
        string vs = tcpdump.Ok ? $"{2 * tcpdump.Seconds / pair.Seconds:F2}x" : "–";
        string ceiling = engine.Ok ? $"the file twice, once per process: {PairSpeedup():F2}x the one-thread engine's rate (the ceiling for its work on two cores here); " : "";
        return $"| {PairName} | {pair.Seconds:F3} | {Cpu(pair):F2} | {pps:N0} | {cps:N0} | {mbps:N0} | {vs} | {Mb(pair.PeakRss)} | {ceiling}copies took {pair.Notes["copies"]} |";
    }

    private double PairSpeedup() => 2 * engine.Seconds / pair.Seconds;

    /// <summary>
    /// "; per round: median 1.23x (1.20x-1.31x, 3 rounds)": <paramref name="factor"/> x a's time over b's, taken
    /// round by round (the two runs of a round ran minutes apart at most), so the machine's drift between rounds
    /// cancels out; empty with fewer than two complete rounds.
    /// </summary>
    private static string Paired(ProbeResult?[]? a, ProbeResult?[]? b, double factor = 1)
    {
        var ratios = RoundRatios(a, b, factor);
        if (ratios.Count < 2)
            return "";
        return $"; per round: median {Median(ratios):F2}x ({ratios[0]:F2}x–{ratios[^1]:F2}x, {ratios.Count} rounds)";
    }

    /// <summary>factor x a's time over b's for every round where both ran, in ascending order.</summary>
    private static List<double> RoundRatios(ProbeResult?[]? a, ProbeResult?[]? b, double factor = 1) =>
        a is null || b is null
            ? []
            : a.Zip(b).Where(p => p.First is not null && p.Second is not null)
                .Select(p => factor * p.First!.Seconds / p.Second!.Seconds).OrderBy(x => x).ToList();

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>
    /// The ratio a verdict is given on: the median of the per-round ratios when there are three rounds or more (the
    /// runs of a round are seconds apart, so the machine's drift cancels), else the ratio of the best runs.
    /// </summary>
    private static double VerdictRatio(double best, ProbeResult?[]? a, ProbeResult?[]? b)
    {
        var ratios = RoundRatios(a, b);
        return ratios.Count >= 3 ? Median(ratios) : best;
    }

    private static double Cpu(ProbeResult r) => r.UserSeconds + r.SystemSeconds;

    /// <summary>"1.23x the time of X (CPU 1.10x)": the row's wall and CPU time over the baseline's.</summary>
    private static string Compare(ProbeResult r, ProbeResult baseline, string what) =>
        !r.Ok || !baseline.Ok ? "" : $"{r.Seconds / baseline.Seconds:F2}x the wall time of {what} (CPU {Cpu(r) / Math.Max(1e-9, Cpu(baseline)):F2}x)";

    /// <summary>Whether the parallel engine's records equal the one-thread engine's (fingerprint of every field but uid).</summary>
    private bool? ParallelSame() =>
        engine.Ok && parallel.Ok && engine.Notes.TryGetValue("fingerprint", out var a) && parallel.Notes.TryGetValue("fingerprint", out var b)
            ? a == b
            : null;

    private string ParallelSameText() => ParallelSame() switch
    {
        true => "; records identical to the one-thread engine's (every field but uid)",
        false => $"; **records differ** from the one-thread engine's: fingerprint {parallel.Notes["fingerprint"]} vs {engine.Notes["fingerprint"]}",
        null => "",
    };

    private string Row(ProbeResult r, string? comparison = null)
    {
        if (!r.Ok)
            return $"| {r.Name} | – | – | – | – | – | – | – | not measured: {Escape(r.Error)} |";
        double pps = Packets / r.Seconds;
        double cps = Connections / r.Seconds;
        double mbps = fileBytes / 1e6 / r.Seconds;
        string vs = tcpdump.Ok ? $"{tcpdump.Seconds / r.Seconds:F2}x" : "–";
        var notes = new List<string>();
        if (!string.IsNullOrEmpty(comparison))
            notes.Add(comparison);
        if (r.SetupSeconds > 0)
            notes.Add($"runspace + import {r.SetupSeconds:F2} s not included");
        if (r.AllocatedBytes > 0 && Packets > 0)
            notes.Add($"{r.AllocatedBytes / (double)Packets:F1} B allocated/packet ({r.AllocatedBytes / (double)Math.Max(1, Connections):F0} B/connection)");
        if (r.PeakManagedHeap > 0)
            notes.Add($"peak managed heap {Mb(r.PeakManagedHeap)}");
        if (r.Gen0 + r.Gen1 + r.Gen2 > 0)
            notes.Add($"GCs {r.Gen0}/{r.Gen1}/{r.Gen2}");
        if (r.Records > 0)
            notes.Add($"{r.Records:N0} records");
        foreach (var key in new[] { "errors", "weirds" })
        {
            if (r.Notes.TryGetValue(key, out var v) && v.Length > 0)
                notes.Add($"{key}: {Escape(v)}");
        }
        string cpu = r.UserSeconds + r.SystemSeconds > 0 ? $"{r.UserSeconds + r.SystemSeconds:F2}" : "–";
        return $"| {r.Name} | {r.Seconds:F3} | {cpu} | {pps:N0} | {cps:N0} | {mbps:N0} | {vs} | {Mb(r.PeakRss)} | {string.Join("; ", notes)} |";
    }

    public string Targets()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Target (issue 4) | Measured | Verdict |");
        sb.AppendLine("|---|---|---|");
        if (engine.Ok && tcpdump.Ok)
        {
            double ratio = tcpdump.Seconds / engine.Seconds;
            double cpuRatio = (tcpdump.UserSeconds + tcpdump.SystemSeconds) / Math.Max(1e-9, engine.UserSeconds + engine.SystemSeconds);
            sb.AppendLine($"| Engine (1 thread) packets/s ≥ tcpdump's raw read | {ratio:F2}x tcpdump by wall time ({cpuRatio:F2}x by CPU time){Paired(Rounds?.Tcpdump, Rounds?.Engine)} | {Verdict(VerdictRatio(ratio, Rounds?.Tcpdump, Rounds?.Engine) >= 1.0)} |");
        }
        else
        {
            sb.AppendLine($"| Engine (1 thread) packets/s ≥ tcpdump's raw read | – | not measured: {Escape(engine.Error ?? tcpdump.Error)} |");
        }

        if (engine.Ok && cmdlet.Ok)
        {
            double ratio = cmdlet.Seconds / engine.Seconds;
            string scale = Connections >= 100_000 ? "" : $" (only {Connections:N0} connections; the target asks for 100k+)";
            string same = cmdlet.Records == engine.Records ? "" : $"; record counts differ: cmdlet {cmdlet.Records:N0}, engine {engine.Records:N0}";
            double cpuRatio = (cmdlet.UserSeconds + cmdlet.SystemSeconds) / Math.Max(1e-9, engine.UserSeconds + engine.SystemSeconds);
            sb.AppendLine($"| Read-ConnTrace ≤ 1.3x the engine alone (100k+ connections) | `-ThreadCount 1` vs the one-thread engine: {ratio:F2}x by wall time ({cpuRatio:F2}x by CPU time){Paired(Rounds?.Cmdlet, Rounds?.Engine)}{scale}{same} | {Verdict(VerdictRatio(ratio, Rounds?.Cmdlet, Rounds?.Engine) <= 1.3 && cmdlet.Records == engine.Records)} |");
        }
        else
        {
            sb.AppendLine($"| Read-ConnTrace ≤ 1.3x the engine alone (100k+ connections) | – | not measured: {Escape(cmdlet.Error ?? engine.Error)} |");
        }

        const string parallelTarget = "Parallel mode ≥ 1.7x single thread on 2 cores, identical records";
        if (engine.Ok && parallel.Ok)
        {
            double speedup = engine.Seconds / parallel.Seconds;
            double cpuRatio = Cpu(parallel) / Math.Max(1e-9, Cpu(engine));
            bool? same = ParallelSame();
            string sameText = same switch
            {
                true => $"records identical ({parallel.Records:N0}; every field but uid)",
                false => $"**records differ** (fingerprint {parallel.Notes["fingerprint"]} vs {engine.Notes["fingerprint"]})",
                null => "records not compared (no fingerprint)",
            };
            string cores = Environment.ProcessorCount == 2 ? "" : $" (this machine has {Environment.ProcessorCount} cores, not 2)";
            string ceiling = pair.Ok ? $"; for scale, two one-thread engines at once, nothing shared, reach {PairSpeedup():F2}x{Paired(Rounds?.Engine, Rounds?.Pair, 2)}" : "";
            sb.AppendLine($"| {parallelTarget} | {ParallelName()}: {speedup:F2}x the one-thread rate by wall time{Paired(Rounds?.Engine, Rounds?.Parallel)}; CPU time {cpuRatio:F2}x the one-thread run's{cores}; {sameText}{ceiling} | {Verdict(VerdictRatio(speedup, Rounds?.Engine, Rounds?.Parallel) >= 1.7 && same == true)} |");
        }
        else
        {
            sb.AppendLine($"| {parallelTarget} | – | not measured: {Escape(parallel.Error ?? engine.Error)} |");
        }

        if (memory is { Ok: true } && memory.Notes.TryGetValue("bytesPerConnection", out var bpc) &&
            double.TryParse(bpc, NumberStyles.Float, CultureInfo.InvariantCulture, out var perConn))
        {
            string others = memory.Notes.TryGetValue("ipv6BytesPerConnection", out var v6) && memory.Notes.TryGetValue("establishedBytesPerConnection", out var est)
                ? $"; IPv6 SYN-only {v6} B, established with data both ways {est} B ({memory.Notes["establishedOpen"]} open)"
                : "";
            sb.AppendLine($"| ≤ 200 B managed heap per tracked connection at {args.MemConnections:N0} open | {perConn:F0} B/connection, IPv4 SYN-only ({memory.Notes["open"]} open){others} | {Verdict(perConn <= 200)} |");
        }
        else if (memory is not null)
        {
            sb.AppendLine($"| ≤ 200 B managed heap per tracked connection at 1M open | – | not measured: {Escape(memory.Error)} |");
        }

        if (stream is { Ok: true })
        {
            var (flat, text) = Flatness(stream);
            sb.AppendLine($"| Flat memory over a {stream.Notes["gigabytes"]} GB capture (connections come and go) | {text} | {Verdict(flat)} |");
        }
        else if (stream is not null)
        {
            sb.AppendLine($"| Flat memory over a 10 GB capture | – | not measured: {Escape(stream.Error)} |");
        }
        return sb.ToString();
    }

    /// <summary>Flat: the live heap in the last quarter of the input is within 10% of the second quarter's.</summary>
    private static (bool Flat, string Text) Flatness(ProbeResult r)
    {
        var samples = StreamProbe.ParseSamples(r.Notes["samples"]);
        if (samples.Count < 8)
            return (false, $"too few samples ({samples.Count}) to judge");
        double total = samples[^1].GigabytesIn;
        long Max(double from, double to) => samples.Where(s => s.GigabytesIn >= from * total && s.GigabytesIn <= to * total).Select(s => s.LiveHeap).DefaultIfEmpty(0).Max();
        long mid = Max(0.25, 0.5), end = Max(0.75, 1.0);
        bool flat = mid > 0 && end <= mid * 1.10;
        return (flat, $"live heap max {Mb(mid)} in the 2nd quarter, {Mb(end)} in the 4th ({(end / (double)Math.Max(1, mid) - 1) * 100:+0;-0}%)");
    }

    public string Render()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# ConnTrack benchmark results");
        sb.AppendLine();
        sb.AppendLine($"- Date: {startedUtc:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine($"- Machine: {Machine.Describe()}");
        sb.AppendLine($"- Load average: {Machine.LoadAtStart ?? "?"} when the run started, {Machine.LoadAverage()} at the end (other jobs on the machine make wall times noisy; CPU times are steadier)");
        sb.AppendLine($"- Command (from the repository root): `{Command}`");
        sb.AppendLine($"- Tools: {string.Join("; ", new[] { Machine.ToolVersion("tcpdump", "--version"), Machine.ToolVersion("tshark", "-v"), ArgusVersion() }.Where(v => v is not null))}");
        if (module is not null)
        {
            string build = cmdlet.Notes.TryGetValue("moduleBuild", out var b) ? b : "?";
            sb.AppendLine($"- Module imported: `{Path.GetRelativePath(Environment.CurrentDirectory, module)}` ({build} build" +
                          (build == "Debug" ? ": its cmdlet code is not optimised, and the Read-ConnTrace rows are slower for it)" : ")"));
        }
        sb.AppendLine($"- Capture: `{Path.GetFileName(capture)}` ({fileBytes / 1e6:N1} MB, classic pcap, Ethernet)" +
                      (generated is null ? "" : $", generated with seed {args.Seed}, {args.Concurrency:N0} concurrent connections" +
                      (generateSeconds > 0 ? $" in {generateSeconds:F1} s" : " (reused: same options, same bytes)") + $": {generated}"));
        sb.AppendLine();
        sb.AppendLine("Each measurement runs in its own process on the same file, already in the page cache; the fastest of the repetitions is kept. tcpdump, the engine rows and the Read-ConnTrace rows run in rounds (each once per round), so the rows compared share the same stretches of the machine's drifting speed; the peers tshark and argus run once: they are slow.");
        sb.AppendLine("The targets give the ratio of the best runs and, where there are two rounds or more, the same ratio taken round by round (the median and the range): pairing the runs of one round cancels the drift between rounds, so that median is the steadier figure, and with three rounds or more the verdict is given on it (else on the best runs).");
        sb.AppendLine("\"Speed vs tcpdump\" is tcpdump's time divided by the row's time (above 1: faster than libpcap merely reading the file).");
        sb.AppendLine("Allocated bytes come from GC.GetTotalAllocatedBytes around the whole run and include the records handed out.");
        sb.AppendLine($"\"engine, parallel\" is ParallelTraceRunner with one shard (tracking thread) per logical CPU ({Environment.ProcessorCount}), besides its reading thread; its records are compared with the one-thread engine's by a fingerprint of every field but uid (shards draw uids from their own seeds).");
        sb.AppendLine($"\"{PairName}\" starts two one-thread engine processes on the file together: the same work twice with no hand-over, no shared table and no shared memory, so twice the engine's time over the pair's is about the most two cores of this machine give for the engine's work (the copies still share the memory bus and the last-level cache); one run split over two cores pays hand-over costs on top, so it can hope to come near this ratio, not above it.");
        sb.AppendLine("Read-ConnTrace runs twice: with `-ThreadCount 1` (compared with the one-thread engine: the 1.3x target) and with the default `-ThreadCount 0`, which for a capture of 128 MiB or more runs on every core, one thread reading and the others tracking (compared with the parallel engine and with `-ThreadCount 1`).");
        sb.AppendLine();
        sb.AppendLine("## Throughput");
        sb.AppendLine();
        sb.Append(Table());
        sb.AppendLine();
        sb.AppendLine("## Targets");
        sb.AppendLine();
        sb.Append(Targets());
        if (stages is { Ok: true })
        {
            sb.AppendLine();
            sb.AppendLine("## Where the engine's time goes");
            sb.AppendLine();
            sb.AppendLine("The same file through growing parts of the engine, in one process, one timed pass per stage after a warm-up pass; last, the tracker alone, fed the file's packets decoded beforehand.");
            sb.AppendLine();
            sb.AppendLine("| Stage | s | Packets/s | Share of the whole |");
            sb.AppendLine("|---|---:|---:|---:|");
            double whole = double.Parse(stages.Notes["full"], CultureInfo.InvariantCulture);
            foreach (var (key, label) in new[]
                     {
                         ("readBuffered", "capture reader alone, file copied through a buffer (the default)"),
                         ("read", "capture reader alone, file mapped in place under a read lease (memory_map_files: true)"),
                         ("decodeNoChecksums", "reader + decoder, checksums not verified"),
                         ("decode", "reader + decoder (checksums verified, the default)"),
                         ("fullNoChecksums", "whole pipeline, IgnoreChecksums"),
                         ("full", "whole pipeline (reader, decoder, tracker, records)"),
                         ("trackerAlone", "tracker alone, on the packets decoded beforehand into memory (records counted)"),
                     })
            {
                if (!stages.Notes.ContainsKey(key))
                    continue;
                double t = double.Parse(stages.Notes[key], CultureInfo.InvariantCulture);
                sb.AppendLine($"| {label} | {t:F3} | {Packets / t:N0} | {t / whole * 100:F0}% |");
            }
        }
        if (RotatedWhole is { Ok: true } oneFile && RotatedParts is { Ok: true } manyFiles)
        {
            sb.AppendLine();
            sb.AppendLine("## Many small files");
            sb.AppendLine();
            double perFileMs = (manyFiles.Seconds - oneFile.Seconds) / (RotatedFiles.Files - 1) * 1000;
            sb.AppendLine($"The capture's first {RotatedFiles.Files * RotatedFiles.PacketsPerFile:N0} packets as one file and cut into " +
                          $"{RotatedFiles.Files:N0} files of {RotatedFiles.PacketsPerFile} packets (one trace: " +
                          $"{(oneFile.Records == manyFiles.Records ? $"the same {oneFile.Records:N0} records" : $"{oneFile.Records:N0} against {manyFiles.Records:N0} records: NOT the same")}), " +
                          $"Read-ConnTrace with its default thread count, best of {Math.Min(args.Reps, 3)} interleaved runs: " +
                          $"one file {oneFile.Seconds:F3} s, {RotatedFiles.Files:N0} files {manyFiles.Seconds:F3} s, " +
                          $"**{perFileMs:F2} ms a file** more.");
        }
        if (memory is { Ok: true })
        {
            sb.AppendLine();
            sb.AppendLine("## Memory per connection");
            sb.AppendLine();
            sb.AppendLine($"{memory.Packets:N0} IPv4 SYNs with distinct tuples, 1 µs apart, fed straight to the engine (no timer fires); " +
                          $"managed heap (GC.GetTotalMemory(true)) {Mb(long.Parse(memory.Notes["heapBefore"]))} before, " +
                          $"{Mb(long.Parse(memory.Notes["heapAfter"]))} with {memory.Notes["open"]} connections open: " +
                          $"**{memory.Notes["bytesPerConnection"]} B per connection**; peak RSS {Mb(memory.PeakRss)}.");
            if (memory.Notes.TryGetValue("ipv6BytesPerConnection", out var v6Text))
                sb.AppendLine($"The same with IPv6 SYNs: **{v6Text} B per connection** ({memory.Notes["ipv6Open"]} open). " +
                              $"{memory.Notes["establishedOpen"]} established IPv4 connections that carried data both ways " +
                              $"(SYN, SYN-ACK, ACK, a segment each way, an ack: {memory.Notes["establishedPackets"]} packets): " +
                              $"**{memory.Notes["establishedBytesPerConnection"]} B per connection**.");
        }
        if (stream is { Ok: true })
        {
            sb.AppendLine();
            sb.AppendLine("## Streaming");
            sb.AppendLine();
            sb.AppendLine($"{stream.Notes["gigabytes"]} GB of capture ({stream.Packets:N0} packets, {long.Parse(stream.Notes["connections"]):N0} connections, " +
                          $"{stream.Notes["traceSeconds"]} s of trace time) generated on the fly and fed to the engine without a file, " +
                          $"in {stream.Seconds:F1} s (generation included); {stream.Records:N0} records. Peak RSS {Mb(stream.PeakRss)}.");
            sb.AppendLine("Zeek's timeouts set the plateau: UDP and ICMP flows stay for their 1 min inactivity timeout, so the table fills for the first minute of trace time, then stays level.");
            sb.AppendLine();
            sb.AppendLine("| GB in | Live managed heap | RSS | Open connections | Records out |");
            sb.AppendLine("|---:|---:|---:|---:|---:|");
            var samples = StreamProbe.ParseSamples(stream.Notes["samples"]);
            int step = Math.Max(1, samples.Count / 12);
            for (int i = 0; i < samples.Count; i++)
            {
                if (i % step != 0 && i != samples.Count - 1)
                    continue;
                var s = samples[i];
                sb.AppendLine($"| {s.GigabytesIn:F2} | {Mb(s.LiveHeap)} | {Mb(s.Rss)} | {s.Open:N0} | {s.Records:N0} |");
            }
        }
        if (engine.Ok && engine.Notes.TryGetValue("fingerprint", out var fp))
        {
            sb.AppendLine();
            sb.AppendLine($"Engine record fingerprint (count:digest of every field but uid): `{fp}`" +
                          (parallel.Ok && parallel.Notes.TryGetValue("fingerprint", out var pfp) ? $"; parallel engine: `{pfp}`." : "."));
        }
        sb.AppendLine();
        sb.AppendLine("## Rerun");
        sb.AppendLine();
        sb.AppendLine("`bench/setup.sh` installs tcpdump, tshark and argus (Debian/Ubuntu). Then, from the repository root:");
        sb.AppendLine();
        sb.AppendLine("```");
        sb.AppendLine(Command);
        sb.AppendLine("dotnet run -c Release --project bench -- --help");
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("Generated captures go to `bench/data/` (git-ignored); the generator is deterministic, so the same options give the same bytes.");
        return sb.ToString();
    }

    private static string? ArgusVersion()
    {
        var v = Machine.ToolVersion("argus", "-h");
        return v is null ? null : v.Contains("argus", StringComparison.OrdinalIgnoreCase) ? v : "argus " + v;
    }

    private string ParallelName() => parallel.Name;

    private static string Verdict(bool met) => met ? "met" : "**missed**";

    private static string Mb(long bytes) => bytes <= 0 ? "–" : $"{bytes / 1048576.0:N0} MiB";

    private static string Escape(string? s) => (s ?? "").Replace("|", "\\|").Replace("\n", " ");
}

/// <summary>Each round's run of the rows the targets compare, by round (null where a run failed).</summary>
public sealed record RoundSamples(ProbeResult?[] Tcpdump, ProbeResult?[] Engine, ProbeResult?[] Parallel, ProbeResult?[] Cmdlet, ProbeResult?[] Pair, ProbeResult?[]? CmdletAuto = null);

/// <summary>Counts the records of a classic pcap file by walking its record headers.</summary>
public static class PcapCount
{
    public static long Count(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> h = stackalloc byte[24];
        if (fs.Read(h) != 24)
            return 0;
        uint magic = BitConverter.ToUInt32(h);
        bool swap = magic is 0xD4C3B2A1 or 0x4D3CB2A1;
        if (!swap && magic is not (0xA1B2C3D4 or 0xA1B23C4D))
            return 0;
        long n = 0;
        Span<byte> r = stackalloc byte[16];
        while (fs.Read(r) == 16)
        {
            uint caplen = BitConverter.ToUInt32(r[8..]);
            if (swap)
                caplen = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(caplen);
            fs.Seek(caplen, SeekOrigin.Current);
            n++;
        }
        return n;
    }
}

using System.Diagnostics;
using System.Globalization;
using ConnTrack.Bench;
using ConnTrack.Bench.Generator;
using ConnTrack.Bench.Measure;
using ConnTrack.Engine;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Child processes: each measurement runs in a fresh process so that heaps, JIT state and peak RSS are its own.
if (args.Length >= 2 && args[0] == "--child")
{
    if (args[1] == "tuples")
    {
        // Debug aid: one line per record of the engine over a file (tuple, state, history, packets).
        var runner = new ConnTrack.Engine.ConnTraceRunner(new ConnTrack.Engine.Config.ConnTrackOptions());
        static void Print(ConnTrack.Engine.Records.ConnRecord rec) =>
            Console.WriteLine($"{rec.OrigH} {rec.OrigP} {rec.RespH} {rec.RespP} {rec.Proto} {rec.ConnState} {rec.History} {rec.OrigPkts} {rec.RespPkts}");
        foreach (var rec in runner.ReadFile(args[2]))
            Print(rec);
        foreach (var rec in runner.Finish()) // Finish flushes when called: only after the file is read
            Print(rec);
        return 0;
    }
    ProbeResult r = args[1] switch
    {
        "engine" => EngineProbe.Run(args[2], args.Length > 3 ? int.Parse(args[3]) : 0),
        "cmdlet" => CmdletProbe.Run(args[2], args[3], threadCount: args[4] == "default" ? null : int.Parse(args[4]), name: args[5]),
        "cmdlet-selftest" => CmdletProbe.Run("*", args[2], "Get-Command"),
        "stages" => StageProbe.Run(args[2], int.Parse(args[3])),
        "memprobe" => MemoryProbe.Run(long.Parse(args[2]), ulong.Parse(args[3])),
        "stream" => StreamProbe.Run(long.Parse(args[2]), int.Parse(args[3]), ulong.Parse(args[4])),
        _ => ProbeResult.Failed(args[1], "unknown probe"),
    };
    Console.WriteLine(r.ToJsonLine());
    return 0;
}

BenchArgs a;
try
{
    a = BenchArgs.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchArgs.Usage);
    return 2;
}

var repo = Bench.FindRepoRoot();
switch (a.Command)
{
    case "help":
        Console.WriteLine(BenchArgs.Usage);
        return 0;
    case "gen":
    {
        var path = a.Out ?? a.Positional.FirstOrDefault() ?? Bench.DefaultCapturePath(repo, a);
        var stats = a.SynFlood > 0 ? Bench.GenerateSynFlood(path, a) : Bench.Generate(path, a);
        Console.WriteLine($"{path}: {stats}");
        return 0;
    }
    case "verify":
        return Bench.Verify(a, Math.Max(a.VerifyFrames, 1)) ? 0 : 1;
    case "memprobe":
        Bench.Print(Bench.Child(["memprobe", a.MemConnections.ToString(), a.Seed.ToString()]));
        return 0;
    case "stream":
        Bench.Print(Bench.Child(["stream", ((long)(a.StreamGb * 1e9)).ToString(), a.Concurrency.ToString(), a.Seed.ToString()]));
        return 0;
    default:
        return Bench.RunAll(repo, a);
}

namespace ConnTrack.Bench
{
    internal static class Bench
    {
        public static string FindRepoRoot()
        {
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "ConnTrack.sln")))
                        return dir.FullName;
                }
            }
            return Environment.CurrentDirectory;
        }

        public static string DefaultCapturePath(string repo, BenchArgs a) =>
            Path.Combine(repo, "bench", "data", $"gen-v{CaptureGenerator.Version}-p{a.Packets}-c{a.Concurrency}-s{a.Seed}.pcap");

        public static GeneratorOptions GeneratorOptionsFor(BenchArgs a) =>
            new() { Packets = a.Packets, Concurrency = a.Concurrency, Seed = a.Seed };

        public static GeneratorStats Generate(string path, BenchArgs a)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var tmp = path + ".partial";
            GeneratorStats stats;
            using (var sink = new PcapFileSink(tmp))
                stats = new CaptureGenerator(GeneratorOptionsFor(a), sink).Run();
            File.Move(tmp, path, overwrite: true);
            return stats;
        }

        public static GeneratorStats GenerateSynFlood(string path, BenchArgs a)
        {
            using var sink = new PcapFileSink(path);
            return new CaptureGenerator(GeneratorOptionsFor(a) with { Packets = a.SynFlood }, sink).RunSynFlood(a.SynFlood);
        }

        /// <summary>Regenerates the first frames of the capture in memory and checks them with PacketDotNet.</summary>
        public static bool Verify(BenchArgs a, int frames)
        {
            var verifier = new CaptureVerifier();
            new CaptureGenerator(GeneratorOptionsFor(a) with { Packets = Math.Min(frames, a.Packets) }, verifier).Run();
            Console.WriteLine($"PacketDotNet check of the first {verifier.Frames:N0} frames: {verifier.Bad} bad " +
                              $"(TCP {verifier.Tcp:N0}, UDP {verifier.Udp:N0}, ICMP {verifier.Icmp:N0}, IPv6 {verifier.Ipv6:N0})" +
                              (verifier.FirstProblem is null ? "" : $"; first: {verifier.FirstProblem}"));
            return verifier.Bad == 0;
        }

        /// <summary>Runs a probe in a fresh copy of this program.</summary>
        public static ProbeResult Child(IReadOnlyList<string> probeArgs) => Collect(StartChild(probeArgs), probeArgs[0]);

        /// <summary>
        /// Two copies of a probe started together, each in its own process: the same work done twice with nothing
        /// shared, so 2 x (one copy's time) / (the pair's time) is the most two cores of this machine give for that
        /// work. The result's time is the slower copy's; CPU times, packets and records are the two copies' sums.
        /// </summary>
        public static ProbeResult ChildPair(IReadOnlyList<string> probeArgs, string name)
        {
            var first = StartChild(probeArgs);
            var second = StartChild(probeArgs);
            var a = Collect(first, probeArgs[0]);
            var b = Collect(second, probeArgs[0]);
            if (!a.Ok || !b.Ok)
                return ProbeResult.Failed(name, a.Error ?? b.Error ?? "a copy failed");
            return new ProbeResult
            {
                Name = name,
                Ok = true,
                Seconds = Math.Max(a.Seconds, b.Seconds),
                Packets = a.Packets + b.Packets,
                Records = a.Records + b.Records,
                UserSeconds = a.UserSeconds + b.UserSeconds,
                SystemSeconds = a.SystemSeconds + b.SystemSeconds,
                PeakRss = Math.Max(a.PeakRss, b.PeakRss),
                Notes = { ["copies"] = $"{a.Seconds:F3} s and {b.Seconds:F3} s" },
            };
        }

        private static (Process Process, Task<string> Stderr) StartChild(IReadOnlyList<string> probeArgs)
        {
            var self = Environment.ProcessPath!;
            var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
                psi.ArgumentList.Add(typeof(Bench).Assembly.Location);
            psi.ArgumentList.Add("--child");
            foreach (var arg in probeArgs)
                psi.ArgumentList.Add(arg);
            var p = Process.Start(psi)!;
            return (p, p.StandardError.ReadToEndAsync());
        }

        private static ProbeResult Collect((Process Process, Task<string> Stderr) child, string probe)
        {
            using var p = child.Process;
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var result = ProbeResult.FromOutput(stdout);
            if (result is not null)
                return result;
            var err = (child.Stderr.Result + stdout).Trim();
            var firstLines = string.Join(" | ", err.Split('\n').Take(3).Select(l => l.Trim()));
            return ProbeResult.Failed(probe, $"probe process exited with {p.ExitCode}: {firstLines}");
        }

        /// <summary>Runs a measurement <paramref name="reps"/> times and keeps the fastest good run.</summary>
        public static ProbeResult Best(int reps, Func<ProbeResult> run)
        {
            ProbeResult? best = null;
            for (int i = 0; i < reps; i++)
            {
                var r = run();
                Console.WriteLine($"    {r.Name}: " + (r.Ok ? $"{r.Seconds:F3} s" : r.Error));
                if (!r.Ok)
                    return best ?? r;
                if (best is null || r.Seconds < best.Seconds)
                    best = r;
            }
            return best!;
        }

        /// <summary>
        /// Runs several measurements in rounds (each once per round, in order) and keeps each one's fastest good run,
        /// and every good run in <paramref name="rounds"/> (by measurement, in round order; a round whose run failed
        /// holds null). This machine's speed drifts over minutes; rounds put every row's samples in the same stretches
        /// of time, so the ratios between rows compare like with like (a row measured all at once could land in a slow
        /// stretch), and the runs of one round can be compared pairwise. A measurement that fails is not run again.
        /// </summary>
        public static ProbeResult[] BestInterleaved(int reps, out ProbeResult?[][] rounds, params Func<ProbeResult>[] runs)
        {
            var best = new ProbeResult?[runs.Length];
            rounds = new ProbeResult?[runs.Length][];
            for (int i = 0; i < runs.Length; i++)
                rounds[i] = new ProbeResult?[reps];
            for (int round = 0; round < reps; round++)
            {
                for (int i = 0; i < runs.Length; i++)
                {
                    if (best[i] is { Ok: false })
                        continue;
                    var r = runs[i]();
                    Console.WriteLine($"    {r.Name}: " + (r.Ok ? $"{r.Seconds:F3} s" : r.Error));
                    if (!r.Ok)
                    {
                        best[i] ??= r;
                        continue;
                    }
                    rounds[i][round] = r;
                    if (best[i] is null || r.Seconds < best[i]!.Seconds)
                        best[i] = r;
                }
            }
            return best.Select(r => r!).ToArray();
        }

        public static void Print(ProbeResult r)
        {
            Console.WriteLine(r.Ok ? $"{r.Name}: {r.Seconds:F3} s, {r.Packets:N0} packets, {r.Records:N0} records" : $"{r.Name}: {r.Error}");
            foreach (var (k, v) in r.Notes)
                Console.WriteLine($"  {k}: {(v.Length > 400 ? v[..400] + "..." : v)}");
        }

        public static string? FindModule(string repo, BenchArgs a)
        {
            if (a.Module is not null)
                return Path.GetFullPath(a.Module);
            var psd1 = Path.Combine(repo, "out", "ConnTrack", "ConnTrack.psd1");
            if (File.Exists(Path.Combine(repo, "src", "Cmdlets", "ConnTrack.Cmdlets.csproj")))
            {
                // The module's own build assembles out/ConnTrack. Built every time (incremental: seconds), in
                // Release: out/ConnTrack holds whatever was built last, and the README's one-line run of
                // Read-ConnTrace builds it in Debug, whose unoptimised cmdlet code the bench would time.
                Console.WriteLine("Building the module: dotnet build -c Release src/Cmdlets");
                var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, UseShellExecute = false, RedirectStandardOutput = true };
                foreach (var arg in new[] { "build", "-c", "Release", "-nologo", "-v", "q", "src/Cmdlets" })
                    psi.ArgumentList.Add(arg);
                using var p = Process.Start(psi)!;
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
            }
            if (File.Exists(psd1))
                return psd1;
            var dll = Path.Combine(repo, "src", "Cmdlets", "bin", "Release", "net8.0", "ConnTrack.dll");
            return File.Exists(dll) ? dll : null;
        }

        public static int RunAll(string repo, BenchArgs a)
        {
            var started = DateTime.UtcNow;
            Machine.LoadAtStart = Machine.LoadAverage();
            string capture;
            GeneratorStats? genStats = null;
            double genSeconds = 0;
            if (a.File is not null)
            {
                capture = Path.GetFullPath(a.File);
            }
            else
            {
                capture = DefaultCapturePath(repo, a);
                if (!Verify(a, Math.Min(a.VerifyFrames, (int)Math.Min(a.Packets, int.MaxValue))))
                    return 1;
                // The generator is deterministic: a file of the expected size from the same options is the same file.
                var counting = new CountingSink();
                var expected = new CaptureGenerator(GeneratorOptionsFor(a), counting).Run();
                if (File.Exists(capture) && new FileInfo(capture).Length == expected.PcapBytes)
                {
                    genStats = expected;
                    Console.WriteLine($"Reusing {capture}: {genStats}");
                }
                else
                {
                    var sw = Stopwatch.StartNew();
                    Console.WriteLine($"Generating {capture} ...");
                    genStats = Generate(capture, a);
                    genSeconds = sw.Elapsed.TotalSeconds;
                    Console.WriteLine($"  {genStats} in {genSeconds:F1} s");
                }
            }
            long fileBytes = new FileInfo(capture).Length;

            // Warm the page cache so every reader starts from the same place.
            using (var fs = new FileStream(capture, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            {
                var buf = new byte[1 << 20];
                while (fs.Read(buf) > 0)
                {
                }
            }

            var results = new List<ProbeResult>();
            ExternalTool.Run("tcpdump warm-up", "tcpdump", ["-r", capture, "-w", "/dev/null"]); // not counted

            int shards = Environment.ProcessorCount;
            var module = FindModule(repo, a);
            // -ThreadCount 1 against the one-thread engine (the 1.3x target); the default (-ThreadCount 0: the engine's
            // TraceThreads.For) against the parallel engine when it shards, else against the one-thread engine.
            const string cmdletOne = "Read-ConnTrace -ThreadCount 1";
            int autoThreads = TraceThreads.For(fileBytes, Environment.ProcessorCount);
            string cmdletAutoName = autoThreads == 1
                ? "Read-ConnTrace, default -ThreadCount 0 (picks 1 thread)"
                : $"Read-ConnTrace, default -ThreadCount 0 (picks {autoThreads} threads: one reading, {TraceThreads.TrackingThreads(autoThreads)} tracking)";
            Console.WriteLine($"tcpdump, engine (ConnTraceRunner), engine parallel ({shards} shards), Read-ConnTrace (in-process PowerShell, module {module ?? "not built"}): {a.Reps} rounds");
            var rows = BestInterleaved(a.Reps, out var rounds,
                () => ExternalTool.Run("tcpdump (libpcap read)", "tcpdump", ["-r", capture, "-w", "/dev/null"]),
                () => Child(["engine", capture]),
                () => Child(["engine", capture, shards.ToString()]),
                () => module is null
                    ? ProbeResult.Failed(cmdletOne, "no module: build out/ConnTrack or pass --module")
                    : Child(["cmdlet", capture, module, "1", cmdletOne]),
                () => module is null
                    ? ProbeResult.Failed(cmdletAutoName, "no module: build out/ConnTrack or pass --module")
                    : Child(["cmdlet", capture, module, "default", cmdletAutoName]),
                () => ChildPair(["engine", capture], Report.PairName));
            var (tcpdump, engine, parallel, cmdlet, cmdletAuto, pair) = (rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]);
            results.AddRange(rows[..5]);

            ProbeResult? stages = null;
            if (engine.Ok)
            {
                Console.WriteLine("engine stages (reader, decoder, whole pipeline)");
                stages = Child(["stages", capture, "1"]); // one timed pass per stage after a warm-up one
                Print(stages);
            }

            if (a.Peers)
            {
                Console.WriteLine("tshark -q -z conv,tcp");
                results.Add(Best(1, () => ExternalTool.Run("tshark -z conv,tcp", "tshark", ["-n", "-r", capture, "-q", "-z", "conv,tcp"])));
                Console.WriteLine("argus");
                var argusOut = Path.Combine(Path.GetTempPath(), $"conntrack-bench-{Environment.ProcessId}.argus");
                results.Add(Best(1, () =>
                {
                    var r = ExternalTool.Run("argus", "argus", ["-r", capture, "-w", argusOut]);
                    File.Delete(argusOut);
                    return r;
                }));
            }

            // Read-ConnTrace over the same packets in one file and in many small ones (the default thread count:
            // one thread for files this small), interleaved.
            ProbeResult? rotatedWhole = null, rotatedParts = null;
            if (module is not null)
            {
                var rotated = RotatedFiles.Prepare(capture);
                if (rotated is var (whole, parts))
                {
                    Console.WriteLine($"Read-ConnTrace over {RotatedFiles.Files:N0} files of {RotatedFiles.PacketsPerFile} packets and over the same packets in one file");
                    var pairRows = BestInterleaved(Math.Min(a.Reps, 3), out _,
                        () => Child(["cmdlet", whole, module, "default", "Read-ConnTrace, one file"]),
                        () => Child(["cmdlet", parts, module, "default", $"Read-ConnTrace, {RotatedFiles.Files:N0} files"]));
                    (rotatedWhole, rotatedParts) = (pairRows[0], pairRows[1]);
                }
            }

            ProbeResult? memory = null;
            if (a.MemConnections > 0)
            {
                Console.WriteLine($"memory probe: {a.MemConnections:N0} half-open connections");
                memory = Child(["memprobe", a.MemConnections.ToString(), a.Seed.ToString()]);
                Print(memory);
            }

            ProbeResult? stream = null;
            if (a.StreamGb > 0)
            {
                Console.WriteLine($"streaming probe: {a.StreamGb} GB generated on the fly into the engine");
                stream = Child(["stream", ((long)(a.StreamGb * 1e9)).ToString(), a.Concurrency.ToString(), a.Seed.ToString()]);
                Print(stream);
            }

            var report = new Report(a, started, capture, fileBytes, genStats, genSeconds, tcpdump, engine, parallel, cmdlet,
                cmdletAuto, autoThreads, pair, results.Skip(5).ToList(), memory, stream, module, stages)
            {
                RotatedWhole = rotatedWhole,
                RotatedParts = rotatedParts,
                Rounds = new RoundSamples(rounds[0], rounds[1], rounds[2], rounds[3], rounds[5], CmdletAuto: rounds[4]),
            };
            var text = report.Render();
            Console.WriteLine();
            Console.WriteLine(report.Table());
            Console.WriteLine(report.Targets());
            // A quick run is a smoke test: it does not replace the full run's report unless asked to.
            var resultsPath = a.Results ?? Path.Combine(repo, "bench", a.Quick ? "RESULTS-quick.md" : "RESULTS.md");
            File.WriteAllText(resultsPath, text);
            Console.WriteLine($"Wrote {resultsPath}");
            return 0;
        }
    }
}

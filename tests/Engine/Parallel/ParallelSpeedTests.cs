using System.Diagnostics;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Parallel;
using ConnTrack.Engine.Records;
using Xunit;
using Xunit.Abstractions;

namespace ConnTrack.Engine.Tests.Parallel;

/// <summary>
/// Single-thread against parallel on one large capture, in the same process, rounds interleaved; the best
/// round of each is compared (other load on the machine only ever slows a round down). Opt-in, as it needs a
/// large file and a quiet machine:
/// <c>CONNTRACK_PARALLEL_BENCH=bench/data/gen-p500000-c20000-s42.pcap dotnet test -c Release --filter ParallelSpeed</c>
/// (optionally CONNTRACK_PARALLEL_BENCH_MIN_RATIO=1.7 to make the ratio a requirement).
/// </summary>
[Trait("Category", "Bench")]
[Collection(ParallelRunnerCollection.Name)]
public sealed class ParallelSpeedTests
{
    private readonly ITestOutputHelper _output;

    public ParallelSpeedTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void ParallelSpeed_SingleVersusParallel_OnALargeCapture()
    {
        string? path = Environment.GetEnvironmentVariable("CONNTRACK_PARALLEL_BENCH");
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            _output.WriteLine("SKIPPED: set CONNTRACK_PARALLEL_BENCH to a capture file");
            return;
        }
        var options = new ConnTrackOptions();
        _ = File.ReadAllBytes(path); // into the page cache, for both alike

        double bestSingle = double.MaxValue, bestParallel = double.MaxValue;
        long packets = 0;
        List<ConnRecord>? singleRecords = null, parallelRecords = null;
        for (int round = 0; round < 7; round++)
        {
            var (t1, n1, r1) = Time(() => RunnerComparison.RunSingle(options, [path]));
            var (t2, n2, r2) = Time(() => RunnerComparison.RunParallel(options, [path], shards: 0));
            Assert.Equal(n1, n2);
            packets = n1;
            _output.WriteLine($"round {round}: single {n1 / t1:N0} p/s, parallel {n2 / t2:N0} p/s, ratio {t1 / t2:F2}");
            bestSingle = Math.Min(bestSingle, t1);
            bestParallel = Math.Min(bestParallel, t2);
            singleRecords = r1;
            parallelRecords = r2;
        }
        Assert.Empty(RunnerComparison.Differences(singleRecords!, parallelRecords!));
        double ratio = bestSingle / bestParallel;
        _output.WriteLine($"{packets:N0} packets, {Environment.ProcessorCount} cores: single {packets / bestSingle:N0} p/s, " +
                          $"parallel {packets / bestParallel:N0} p/s, ratio {ratio:F2} (best of 7 each)");
        if (double.TryParse(Environment.GetEnvironmentVariable("CONNTRACK_PARALLEL_BENCH_MIN_RATIO"),
                System.Globalization.CultureInfo.InvariantCulture, out double min))
            Assert.True(ratio >= min, $"ratio {ratio:F2} < {min}");
    }

    private static (double Seconds, long Packets, List<ConnRecord> Records) Time(Func<TraceRun> run)
    {
        GC.Collect();
        var sw = Stopwatch.StartNew();
        var result = run();
        return (sw.Elapsed.TotalSeconds, result.PacketsRead, result.Records);
    }
}

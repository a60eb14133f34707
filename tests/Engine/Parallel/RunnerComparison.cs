using System.Globalization;
using System.Reflection;
using System.Text;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Parallel;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Parallel;

/// <summary>The outcome of running a trace (one or more files) through a runner.</summary>
internal sealed record TraceRun(List<ConnRecord> Records, List<string> Errors, long PacketsRead);

/// <summary>Runs a trace through the single-thread and the parallel runner and compares their records.</summary>
internal static class RunnerComparison
{
    private static readonly PropertyInfo[] Fields = typeof(ConnRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.Name != nameof(ConnRecord.Uid)).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();

    public static TraceRun RunSingle(ConnTrackOptions options, IEnumerable<string> files)
    {
        using var runner = new ConnTraceRunner(options);
        var records = new List<ConnRecord>();
        var errors = new List<string>();
        foreach (var file in files)
        {
            try
            {
                foreach (var r in runner.ReadFile(file))
                    records.Add(r);
            }
            catch (CaptureFormatException e)
            {
                errors.Add($"after {records.Count} records: {e.Message}");
            }
        }
        records.AddRange(runner.Finish());
        return new TraceRun(records, errors, runner.PacketsRead);
    }

    public static TraceRun RunParallel(ConnTrackOptions options, IEnumerable<string> files, int shards,
        int batchSize = ParallelTraceRunner.DefaultBatchSize, int ringSize = ParallelTraceRunner.DefaultRingSize)
    {
        using var runner = new ParallelTraceRunner(options, shards, batchSize, ringSize);
        var records = new List<ConnRecord>();
        var errors = new List<string>();
        foreach (var file in files)
        {
            try
            {
                foreach (var r in runner.ReadFile(file))
                    records.Add(r);
            }
            catch (CaptureFormatException e)
            {
                errors.Add($"after {records.Count} records: {e.Message}");
            }
            Assert.Equal(0, runner.RunningWorkers);
        }
        records.AddRange(runner.Finish());
        Assert.Equal(records.Count, runner.ConnectionsFinished);
        Assert.Equal(0, runner.OpenConnections);
        return new TraceRun(records, errors, runner.PacketsRead);
    }

    /// <summary>Every field but the uid, as text.</summary>
    public static string Canon(ConnRecord r)
    {
        var sb = new StringBuilder();
        foreach (var p in Fields)
        {
            sb.Append(p.Name).Append('=');
            object? v = p.GetValue(r);
            sb.Append(v switch
            {
                null => "-",
                string[] a => string.Join(",", a),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString(),
            });
            sb.Append(' ');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The differences between two record multisets (uid blanked), keyed by ts and tuple so a report names the
    /// connection; empty when they are equal.
    /// </summary>
    public static List<string> Differences(IEnumerable<ConnRecord> expected, IEnumerable<ConnRecord> actual)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in expected)
            counts[Canon(r)] = counts.GetValueOrDefault(Canon(r)) + 1;
        foreach (var r in actual)
            counts[Canon(r)] = counts.GetValueOrDefault(Canon(r)) - 1;
        return counts.Where(kv => kv.Value != 0)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Value > 0 ? $"missing x{kv.Value}: " : $"extra x{-kv.Value}: ") + kv.Key)
            .ToList();
    }
}

using ConnTrack.Conformance;
using Xunit;
using Xunit.Abstractions;

namespace ConnTrack.Engine.Tests.Conformance;

/// <summary>
/// One test per case of the Zeek conformance corpus: the engine's records must match Zeek's conn.log on the
/// case's compared fields (service and tunnel rows excluded, see <see cref="Scorer"/>).
/// Filter with: dotnet test --filter Category=Conformance (or Category!=Conformance).
/// </summary>
[Trait("Category", "Conformance")]
public sealed class ConformanceSuite
{
    public const string CorpusMissing = "(corpus missing)";

    private static readonly Lazy<string?> Corpus = new(() => ConformanceCorpus.Locate());
    private static readonly Lazy<Scorer?> SharedScorer = new(() => Corpus.Value is { } dir ? new Scorer(dir) : null);

    private readonly ITestOutputHelper _output;

    public ConformanceSuite(ITestOutputHelper output) => _output = output;

    public static string? CorpusDirectory => Corpus.Value;
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static IEnumerable<object[]> CaseNames()
    {
        if (SharedScorer.Value is not { } scorer)
        {
            yield return [CorpusMissing];
            yield break;
        }
        foreach (var c in scorer.Cases)
            yield return [c.Name];
    }

    [ConformanceTheory]
    [MemberData(nameof(CaseNames))]
    public void Case_matches_Zeek(string name)
    {
        if (name == CorpusMissing)
            Assert.Fail($"CI=true and the conformance corpus is missing: set {ConformanceCorpus.EnvironmentVariable} or put it at X/shared/conformance");

        var scorer = SharedScorer.Value!;
        var c = scorer.FindCase(name) ?? throw new InvalidOperationException($"case {name} vanished from cases.json");
        var result = scorer.Run(c);
        _output.WriteLine(result.Details());
        if (result.Excluded) return; // allowed by the issue; the line above says why
        if (!result.Passed && KnownDifferences.Cases.TryGetValue(name, out var known))
            _output.WriteLine($"known difference: {known.Reason}");
        if (result.Passed && KnownDifferences.Cases.ContainsKey(name))
            _output.WriteLine("this known difference now passes: remove its entry from KnownDifferences");
        var problem = KnownDifferences.Check(result);
        Assert.True(problem is null, $"{problem}\n{result.Details()}");
    }

    /// <summary>
    /// Prints the scorer's table (one line per case and the total) and checks that the reader copes with every
    /// expected log of the corpus: each parses, has rows, and has every compared field (or a note says which not).
    /// </summary>
    [ConformanceTheory]
    [MemberData(nameof(SummaryData))]
    public void Summary_and_every_expected_log_reads(string corpus)
    {
        if (corpus == CorpusMissing)
            Assert.Fail($"CI=true and the conformance corpus is missing: set {ConformanceCorpus.EnvironmentVariable}");

        var scorer = SharedScorer.Value!;
        var results = new List<CaseResult>();
        var unreadable = new List<string>();
        foreach (var c in scorer.Cases)
        {
            var rows = Scorer.ReadExpected(scorer.CorpusDirectory, c);
            if (rows.Count == 0) unreadable.Add($"{c.Name}: no rows in {c.Expected}");
            var result = scorer.Run(c);
            results.Add(result);
            _output.WriteLine(result.SummaryLine());
            Console.WriteLine(result.SummaryLine());
        }
        var total = Scorer.TotalLine(results);
        _output.WriteLine(total);
        Console.WriteLine(total);
        Assert.Equal(scorer.Cases.Count, results.Count);
        Assert.True(unreadable.Count == 0, string.Join('\n', unreadable));
    }

    public static IEnumerable<object[]> SummaryData()
    {
        yield return [Corpus.Value ?? CorpusMissing];
    }
}

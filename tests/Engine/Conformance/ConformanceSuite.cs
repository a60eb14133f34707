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
    private static readonly Dictionary<string, CaseResult> Results = new(StringComparer.Ordinal);

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
        lock (Results)
        {
            Results[name] = result;
            // Once every case has run, the totals.
            if (Results.Count == scorer.Cases.Count)
                Console.WriteLine(Scorer.TotalLine(Results.Values));
        }
        _output.WriteLine(result.Details());
        if (result.Excluded) return; // allowed by the issue; the line above says why
        Assert.True(result.Passed, result.Details());
    }
}

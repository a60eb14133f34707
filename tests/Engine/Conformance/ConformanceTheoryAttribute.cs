using ConnTrack.Conformance;
using Xunit;

namespace ConnTrack.Engine.Tests.Conformance;

/// <summary>
/// A theory that skips itself when the corpus is missing, unless CI=true (then the data source yields a
/// single "corpus missing" case that fails).
/// </summary>
public sealed class ConformanceTheoryAttribute : TheoryAttribute
{
    public ConformanceTheoryAttribute()
    {
        if (ConformanceSuite.CorpusDirectory is null && !ConformanceSuite.IsCi)
            Skip = $"conformance corpus not found (set {ConformanceCorpus.EnvironmentVariable}, or keep shared/conformance beside the repo)";
    }
}

using Xunit;

namespace ConnTrack.Engine.Tests.Parallel;

/// <summary>
/// The parallel runner's tests run on their own, not beside other test classes: they start worker threads and
/// allocate enough to trigger collections, which would disturb the allocation measurements of other tests
/// (a collection during a measured stretch shows up in GC.GetAllocatedBytesForCurrentThread) and their timing.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ParallelRunnerCollection
{
    public const string Name = "Parallel runner";
}

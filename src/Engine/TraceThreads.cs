namespace ConnTrack.Engine;

/// <summary>
/// How many threads to track a trace on when the caller leaves it to the engine (Read-ConnTrace's default
/// <c>-ThreadCount 0</c>): the cores, sharded (<see cref="Parallel.ParallelTraceRunner"/>), only where that pays.
/// </summary>
public static class TraceThreads
{
    /// <summary>
    /// The first file's size from which sharding is worth its start. Measured on 2 cores (bench captures, fresh
    /// processes, 5 runs each, when the pipeline's thread also did the reading): at 69 MB sharding did not pay (median
    /// 0.16 s against 0.15 s on one thread), at 138 MB it gained ~4%, at 360 MB ~15–20%.
    /// </summary>
    public const long ParallelThreshold = 128L * 1024 * 1024;

    /// <summary>
    /// Cores from which sharding is chosen. With two shards the engine runs a reader and two tracking threads, and a
    /// caller like Read-ConnTrace one more for its own work: on 2 cores that took the same wall time as one thread for
    /// 1.16–1.19x the CPU (bench/README.md, 2026-12-04), so 2 cores track on one thread. Not measured on more cores.
    /// </summary>
    public const int MinParallelCores = 3;

    /// <summary>The thread count for a trace whose first file has <paramref name="firstFileBytes"/> bytes, on <paramref name="cores"/> cores.</summary>
    public static int For(long firstFileBytes, int cores) =>
        cores >= MinParallelCores && firstFileBytes >= ParallelThreshold ? cores : 1;
}

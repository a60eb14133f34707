namespace ConnTrack.Engine;

/// <summary>
/// How many threads to read and track a trace on (Read-ConnTrace's <c>-ThreadCount</c>), and the choice when the caller
/// leaves it to the engine (<c>-ThreadCount 0</c>). One thread reads and tracks (<see cref="ConnTraceRunner"/>); from
/// two, one thread reads and decodes and the others track, the flows sharded over them (<see cref="Parallel.ParallelTraceRunner"/>,
/// Retina's layout: the reading has a core of its own).
/// </summary>
public static class TraceThreads
{
    /// <summary>
    /// The first file's size from which sharding is worth its start. Measured on 2 cores, Read-ConnTrace with a reading
    /// and a tracking thread against one thread (bench captures, 8 interleaved rounds of fresh processes, medians): 43 MB
    /// 0.415 against 0.436 s, 119 MB 0.482 against 0.490 s (both within the noise: faster in 5 and 4 rounds of 8), 360 MB
    /// 0.708 against 0.782 s (faster in 6), 4.1 GB 1.950 against 2.088 s (faster in 9 of 10).
    /// </summary>
    public const long ParallelThreshold = 128L * 1024 * 1024;

    /// <summary>
    /// Cores from which the automatic choice reads on one thread and tracks on the others. Measured on 2 cores,
    /// Read-ConnTrace on a 4.1 GB capture (bench/README.md, 2026-12-04, interleaved rounds of fresh processes): a
    /// reading thread and one tracking thread took 1.891, 1.968, 1.950 and 2.060 s (medians of 8, 8, 10 and 12 rounds)
    /// against 2.071, 2.053, 2.088 and 2.145 s on one thread; in full bench runs, 1.00x its time round by round (0.88x
    /// to 1.04x, 5 rounds; 04:04 UTC), then 0.85x (0.79x to 0.90x; 04:48 UTC, once the per-connection paths were
    /// compiled optimised from their first call). A reading thread and two tracking threads (four threads with the
    /// pipeline's on two cores) took 1.973 and 1.970 s.
    /// </summary>
    public const int MinParallelCores = 2;

    /// <summary>The thread count for a trace whose first file has <paramref name="firstFileBytes"/> bytes, on <paramref name="cores"/> cores.</summary>
    public static int For(long firstFileBytes, int cores) =>
        cores >= MinParallelCores && firstFileBytes >= ParallelThreshold ? cores : 1;

    /// <summary>The tracking threads (shards) of a run on <paramref name="threads"/> threads: all but the reading one, when there are two or more.</summary>
    public static int TrackingThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        return threads == 1 ? 1 : threads - 1;
    }
}

using System.Diagnostics.CodeAnalysis;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine;

/// <summary>
/// What a caller drives, whether the tracking runs on one thread (<see cref="ConnTraceRunner"/>) or sharded over
/// several (<see cref="Parallel.ParallelTraceRunner"/>): frames or files in, finished records out.
/// </summary>
public interface ITraceRunner : IDisposable
{
    ConnTrackOptions Options { get; }
    WeirdCounters Weirds { get; }
    long PacketsRead { get; }
    long ConnectionsFinished { get; }
    int OpenConnections { get; }

    /// <summary>Reads one capture file as the next part of the trace, yielding records as connections end.</summary>
    IEnumerable<ConnRecord> ReadFile(string path);

    /// <summary>
    /// Reads, decodes and tracks the next packets of <paramref name="reader"/> (a few at a time); records that end
    /// are left for <see cref="TryTakeFinished"/>. False once the reader is at its end. A damaged file throws
    /// <see cref="CaptureFormatException"/> after the packets before the damage were tracked.
    /// </summary>
    bool ProcessNextBatch(CaptureReader reader);

    /// <summary>Feeds one frame (live capture, or a caller reading files itself).</summary>
    void ProcessFrame(in RawFrame frame);

    /// <summary>Moves the clock on without a packet.</summary>
    void AdvanceTime(long now);

    /// <summary>
    /// Tracks everything fed so far and returns the records finished and not yet taken (the sharded runner waits for
    /// the batches in flight; the one-thread runner has none).
    /// </summary>
    IEnumerable<ConnRecord> TakeFinished();

    /// <summary>Takes one finished record, if there is one (without waiting for packets still being tracked).</summary>
    bool TryTakeFinished([NotNullWhen(true)] out ConnRecord? record);

    /// <summary>Ends the trace: every open connection is flushed (lazily, when enumerated).</summary>
    IEnumerable<ConnRecord> Finish();
}

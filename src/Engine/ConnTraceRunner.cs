using System.Runtime.ExceptionServices;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine;

/// <summary>
/// The engine top to bottom: source (capture file) → decode → track → record → the caller.
/// Files given one after another form one trace (rotated captures of one sensor), as when Zeek reads them
/// in sequence; a connection spanning two files is one record. Records come out as connections end.
/// </summary>
public sealed class ConnTraceRunner : IConnSink, ITraceRunner
{
    private readonly Queue<ConnRecord> _finished = new();
    private readonly PacketDecoder _decoder;
    private readonly ConnTracker _tracker;
    private readonly BpfFilter? _filter;

    public ConnTraceRunner(ConnTrackOptions options)
    {
        HotPathWarmUp.Start();
        Options = options;
        Weirds = new WeirdCounters();
        _decoder = new PacketDecoder(!options.IgnoreChecksums, Weirds);
        _tracker = new ConnTracker(options, this);
        if (!string.IsNullOrWhiteSpace(options.CaptureFilter))
        {
            // Compiled now so a bad expression or a missing libpcap is reported before any file is read.
            _filter = new BpfFilter(options.CaptureFilter);
            _filter.Prepare(LinkType.Ethernet);
        }
    }

    public void Dispose() => _filter?.Dispose();

    public ConnTrackOptions Options { get; }
    public WeirdCounters Weirds { get; }

    /// <summary>Packets read from all files so far.</summary>
    public long PacketsRead { get; private set; }
    /// <summary>Records handed out so far.</summary>
    public long ConnectionsFinished { get; private set; }
    public int OpenConnections => _tracker.OpenConnections;

    /// <summary>The reader of the file being read now (for progress: BytesRead, FileLength), or null.</summary>
    public CaptureReader? CurrentReader { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    void IConnSink.Write(ConnRecord record) => _finished.Enqueue(record);

    /// <summary>
    /// Reads one capture file as the next part of the trace, yielding records as connections end.
    /// A truncated or corrupt file throws <see cref="CaptureFormatException"/> after every record before the
    /// problem; the connections still open stay tracked, so the trace can go on with the next file.
    /// Disposing the enumerator early closes the file at once.
    /// </summary>
    public IEnumerable<ConnRecord> ReadFile(string path)
    {
        using var reader = CaptureReader.Open(path, Options.MemoryMapFiles);
        CurrentReader = reader;
        try
        {
            bool more;
            ExceptionDispatchInfo? failure = null;
            do
            {
                try
                {
                    more = ProcessNextBatch(reader);
                }
                catch (CaptureFormatException e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                    more = false;
                }
                while (_finished.Count > 0)
                    yield return Hand(_finished.Dequeue());
            } while (more);
            failure?.Throw();   // after every record the packets before the damage gave
        }
        finally
        {
            CurrentReader = null;
        }
    }

    /// <summary>
    /// Reads, decodes and tracks the next packets of <paramref name="reader"/> (up to 16 at a time: their
    /// connections are looked up and prefetched together, which is faster than <see cref="ProcessFrame"/> one
    /// frame at a time, with the same records in the same order). Records that end are left for
    /// <see cref="TryTakeFinished"/>. Returns false once the reader is at its end. A damaged file throws
    /// <see cref="CaptureFormatException"/> after the packets before the damage are tracked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public bool ProcessNextBatch(CaptureReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int count = FillBatch(reader, out bool atEnd, out var failure);
        // Prefetch the whole batch's connections first, so their cache misses overlap.
        _tracker.PrefetchConnections(_batch, BatchIndices.AsSpan(0, count), _hints);
        for (int i = 0; i < count; i++)
            _tracker.ProcessLookedAhead(_batch[i], i, _hints[i]);
        failure?.Throw();
        return !atEnd;
    }

    /// <summary>Packets decoded ahead of tracking (the prefetch window).</summary>
    private const int BatchSize = 16;
    private readonly PacketSummary[] _batch = new PacketSummary[BatchSize];
    private readonly int[] _hints = new int[BatchSize]; // PrefetchConnections' hints (0: none)
    private static readonly int[] BatchIndices = Enumerable.Range(0, BatchSize).ToArray(); // the whole batch, in order

    /// <summary>
    /// Reads and decodes up to <see cref="BatchSize"/> trackable packets into <see cref="_batch"/>. Decoding does
    /// not depend on the tracker, so doing it a few packets ahead changes nothing but the order of the work.
    /// A failure is handed back, to be thrown once the packets before it are tracked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private int FillBatch(CaptureReader reader, out bool atEnd, out ExceptionDispatchInfo? failure)
    {
        int count = 0;
        atEnd = false;
        failure = null;
        try
        {
            while (count < BatchSize)
            {
                if (!reader.TryReadNext(out var frame))
                {
                    atEnd = true;
                    break;
                }
                PacketsRead++;
                if (_filter is not null && !_filter.Matches(frame))
                    continue;
                if (_decoder.Decode(frame, out _batch[count]) == DecodeStatus.Ok)
                    count++;
            }
        }
        catch (Exception e)
        {
            // Whatever stops the reading (a damaged file, a failing filter) surfaces after the packets before it.
            failure = ExceptionDispatchInfo.Capture(e);
            atEnd = true;
        }
        return count;
    }

    /// <summary>Feeds one frame (live capture or a caller's own source).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public void ProcessFrame(in RawFrame frame)
    {
        PacketsRead++;
        if (_filter is not null && !_filter.Matches(frame))
            return;
        if (_decoder.Decode(frame, out var summary) == DecodeStatus.Ok)
            _tracker.Process(summary);
    }

    /// <summary>Moves the clock on without a packet (live capture when the wire is quiet).</summary>
    public void AdvanceTime(long now) => _tracker.AdvanceTime(now);

    /// <summary>Records finished by <see cref="ProcessFrame"/> or <see cref="AdvanceTime"/> and not yet taken.</summary>
    public IEnumerable<ConnRecord> TakeFinished()
    {
        while (_finished.Count > 0)
            yield return Hand(_finished.Dequeue());
    }

    /// <summary>Takes one finished record without allocating (for callers that feed frames one by one).</summary>
    public bool TryTakeFinished([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConnRecord? record)
    {
        if (_finished.TryDequeue(out record))
        {
            Hand(record);
            return true;
        }
        return false;
    }

    /// <summary>Ends the trace: every open connection is flushed, as Zeek does at the end of its input.</summary>
    /// <remarks>Lazy: the flush happens when the result is enumerated, so <c>ReadFile(a).Concat(Finish())</c> works.</remarks>
    public IEnumerable<ConnRecord> Finish()
    {
        _tracker.FlushAll();
        while (_finished.Count > 0)
            yield return Hand(_finished.Dequeue());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    private ConnRecord Hand(ConnRecord record)
    {
        ConnectionsFinished++;
        return record;
    }
}

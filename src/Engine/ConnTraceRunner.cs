using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;

namespace ConnTrack.Engine;

/// <summary>
/// The engine top to bottom: source (capture file) → decode → track → record → the caller.
/// Files given one after another form one trace (rotated captures of one sensor), as when Zeek reads them
/// in sequence; a connection spanning two files is one record. Records come out as connections end.
/// </summary>
public sealed class ConnTraceRunner : IConnSink, IDisposable
{
    private readonly Queue<ConnRecord> _finished = new();
    private readonly PacketDecoder _decoder;
    private readonly ConnTracker _tracker;
    private readonly BpfFilter? _filter;

    public ConnTraceRunner(ConnTrackOptions options)
    {
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

    void IConnSink.Write(ConnRecord record) => _finished.Enqueue(record);

    /// <summary>
    /// Reads one capture file as the next part of the trace, yielding records as connections end.
    /// A truncated or corrupt file throws <see cref="CaptureFormatException"/> after every record before the
    /// problem; the connections still open stay tracked, so the trace can go on with the next file.
    /// Disposing the enumerator early closes the file at once.
    /// </summary>
    public IEnumerable<ConnRecord> ReadFile(string path)
    {
        using var reader = CaptureReader.Open(path);
        CurrentReader = reader;
        try
        {
            while (reader.TryReadNext(out var frame))
            {
                ProcessFrame(frame);
                while (_finished.Count > 0)
                    yield return Hand(_finished.Dequeue());
            }
        }
        finally
        {
            CurrentReader = null;
        }
    }

    /// <summary>Feeds one frame (live capture or a caller's own source).</summary>
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

    private ConnRecord Hand(ConnRecord record)
    {
        ConnectionsFinished++;
        return record;
    }
}

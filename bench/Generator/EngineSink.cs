using ConnTrack.Engine;
using ConnTrack.Engine.Capture;

namespace ConnTrack.Bench.Generator;

/// <summary>Feeds generated frames straight into the engine (no file): the streaming and memory probes.</summary>
public sealed class EngineSink : IFrameSink
{
    private readonly ConnTraceRunner _runner;
    private long _offset = PcapFileSink.GlobalHeaderLength;

    public EngineSink(ConnTraceRunner runner) => _runner = runner;

    /// <summary>Records the engine finished so far (taken and dropped as they come).</summary>
    public long Records { get; private set; }

    private long _frames;

    public void Write(long timestampNs, ReadOnlySpan<byte> frame)
    {
        _runner.ProcessFrame(new RawFrame(frame, timestampNs, frame.Length, LinkType.Ethernet, _offset));
        _offset += PcapFileSink.RecordHeaderLength + frame.Length;
        if ((++_frames & 1023) == 0)
        {
            foreach (var _ in _runner.TakeFinished())
                Records++;
        }
    }

    public void Drain()
    {
        foreach (var _ in _runner.TakeFinished())
            Records++;
    }
}

namespace ConnTrack.Bench.Generator;

/// <summary>Where generated Ethernet frames go: a pcap file, the engine directly, or a counter.</summary>
public interface IFrameSink
{
    /// <summary>Takes one frame; <paramref name="frame"/> is only valid during the call.</summary>
    void Write(long timestampNs, ReadOnlySpan<byte> frame);
}

/// <summary>Counts frames and the bytes a classic pcap file of them would take.</summary>
public sealed class CountingSink : IFrameSink
{
    public long Frames { get; private set; }
    public long PcapBytes { get; private set; } = PcapFileSink.GlobalHeaderLength;

    public void Write(long timestampNs, ReadOnlySpan<byte> frame)
    {
        Frames++;
        PcapBytes += PcapFileSink.RecordHeaderLength + frame.Length;
    }
}

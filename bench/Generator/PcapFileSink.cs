using ConnTrack.Engine.Capture;

namespace ConnTrack.Bench.Generator;

/// <summary>
/// Writes generated frames to a classic pcap file (microsecond timestamps, little-endian, LINKTYPE_ETHERNET,
/// full snap length) through the engine's <see cref="PcapWriter"/>.
/// </summary>
public sealed class PcapFileSink : IFrameSink, IDisposable
{
    public const int GlobalHeaderLength = 24;
    public const int RecordHeaderLength = 16;

    private readonly FileStream _stream;
    private readonly PcapWriter _writer;

    public PcapFileSink(string path)
    {
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        _writer = new PcapWriter(_stream, LinkType.Ethernet, leaveOpen: true);
        BytesWritten = GlobalHeaderLength;
    }

    public long BytesWritten { get; private set; }
    public long Frames => _writer.PacketCount;

    public void Write(long timestampNs, ReadOnlySpan<byte> frame)
    {
        _writer.WritePacket(frame, timestampNs);
        BytesWritten += RecordHeaderLength + frame.Length;
    }

    /// <summary>Flushes to disk too, so that write-back does not disturb the measurements that follow.</summary>
    public void Dispose()
    {
        _writer.Dispose();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
    }
}

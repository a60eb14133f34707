using System.Buffers.Binary;

namespace ConnTrack.Bench.Generator;

/// <summary>
/// Writes classic pcap (microsecond timestamps, little-endian, LINKTYPE_ETHERNET, full snap length).
/// A local stand-in until the engine's ConnTrack.Engine.Capture.PcapWriter is on main.
/// </summary>
public sealed class PcapFileSink : IFrameSink, IDisposable
{
    public const int GlobalHeaderLength = 24;
    public const int RecordHeaderLength = 16;
    private const int SnapLength = 65535;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly byte[] _header = new byte[RecordHeaderLength];

    public PcapFileSink(string path)
        : this(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20), ownsStream: true)
    {
    }

    public PcapFileSink(Stream stream, bool ownsStream)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        Span<byte> g = stackalloc byte[GlobalHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(g, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(g[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(g[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(g[8..], 0);      // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(g[12..], 0);    // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(g[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(g[20..], 1);    // LINKTYPE_ETHERNET
        _stream.Write(g);
        BytesWritten = GlobalHeaderLength;
    }

    public long BytesWritten { get; private set; }
    public long Frames { get; private set; }

    public void Write(long timestampNs, ReadOnlySpan<byte> frame)
    {
        var h = _header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)(timestampNs / 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)(timestampNs % 1_000_000_000 / 1000));
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)frame.Length);
        _stream.Write(h);
        _stream.Write(frame);
        BytesWritten += RecordHeaderLength + frame.Length;
        Frames++;
    }

    public void Dispose()
    {
        _stream.Flush();
        if (_ownsStream)
            _stream.Dispose();
    }
}

using System.Buffers.Binary;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// Writes a classic pcap file (version 2.4) to a stream: microsecond or nanosecond timestamps, either byte
/// order (little-endian unless asked), one link type and snap length. Packets longer than the snap length are
/// cut to it, keeping their original length.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _bigEndian;
    private bool _disposed;

    public PcapWriter(Stream stream, LinkType linkType, int snapLength = CaptureReader.MaxSnapLength,
        bool nanosecond = false, bool bigEndian = false, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _bigEndian = bigEndian;
        LinkType = linkType;
        SnapLength = snapLength;
        Nanosecond = nanosecond;

        Span<byte> header = stackalloc byte[24];
        Put32(header, nanosecond ? PcapReader.MagicNano : PcapReader.MagicMicro);
        Put16(header[4..], 2);
        Put16(header[6..], 4);
        Put32(header[8..], 0);   // thiszone
        Put32(header[12..], 0);  // sigfigs
        Put32(header[16..], (uint)snapLength);
        Put32(header[20..], (uint)linkType);
        _stream.Write(header);
    }

    public LinkType LinkType { get; }
    public int SnapLength { get; }
    public bool Nanosecond { get; }

    /// <summary>Packets written so far.</summary>
    public long PacketCount { get; private set; }

    /// <summary>
    /// Writes one packet. <paramref name="timestampNanos"/> is nanoseconds since the epoch (not before it);
    /// microsecond files drop the sub-microsecond part. <paramref name="originalLength"/> is the length on the
    /// wire; -1 means the data's length.
    /// </summary>
    public void WritePacket(ReadOnlySpan<byte> data, long timestampNanos, int originalLength = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(timestampNanos);
        long seconds = timestampNanos / 1_000_000_000L;
        if (seconds > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(timestampNanos), "pcap timestamps end in 2106.");
        long nanos = timestampNanos - seconds * 1_000_000_000L;
        uint fraction = (uint)(Nanosecond ? nanos : nanos / 1000);
        if (originalLength < 0)
            originalLength = data.Length;
        if (originalLength < data.Length)
            throw new ArgumentOutOfRangeException(nameof(originalLength), "The original length cannot be less than the data.");

        var kept = data.Length > SnapLength ? data[..SnapLength] : data;
        Span<byte> header = stackalloc byte[16];
        Put32(header, (uint)seconds);
        Put32(header[4..], fraction);
        Put32(header[8..], (uint)kept.Length);
        Put32(header[12..], (uint)originalLength);
        _stream.Write(header);
        _stream.Write(kept);
        PacketCount++;
    }

    public void Flush() => _stream.Flush();

    private void Put16(Span<byte> s, ushort v)
    {
        if (_bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, v);
        else BinaryPrimitives.WriteUInt16LittleEndian(s, v);
    }

    private void Put32(Span<byte> s, uint v)
    {
        if (_bigEndian) BinaryPrimitives.WriteUInt32BigEndian(s, v);
        else BinaryPrimitives.WriteUInt32LittleEndian(s, v);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _stream.Flush();
        if (!_leaveOpen)
            _stream.Dispose();
    }
}

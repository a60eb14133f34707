using System.Buffers.Binary;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// Classic libpcap savefile: a 24-byte file header, then records of a 16-byte header and the captured bytes.
/// Either byte order; microsecond (a1b2c3d4) or nanosecond (a1b23c4d) timestamps, and the old Kuznetzov
/// "modified pcap" (a1b2cd34) whose record headers carry 8 more bytes.
/// </summary>
public sealed class PcapReader : FileCaptureReader
{
    internal const uint MagicMicro = 0xa1b2c3d4;
    internal const uint MagicNano = 0xa1b23c4d;
    internal const uint MagicModified = 0xa1b2cd34;
    private const int FileHeaderLength = 24;

    private readonly bool _bigEndian;
    private readonly int _fracToNanos;
    private readonly int _recordHeaderLength;
    private readonly int _snapLength;

    internal static bool IsMagic(uint value) => value is MagicMicro or MagicNano or MagicModified;

    internal PcapReader(CaptureInput input, CaptureSource source) : base(input, source)
    {
        if (!input.Ensure(FileHeaderLength))
            ThrowTruncated(0, "the pcap file header");
        var header = input.Peek(FileHeaderLength);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        _bigEndian = !IsMagic(magic);
        if (_bigEndian)
            magic = BinaryPrimitives.ReadUInt32BigEndian(header);
        IsNanosecond = magic == MagicNano;
        _fracToNanos = IsNanosecond ? 1 : 1000;
        _recordHeaderLength = magic == MagicModified ? 24 : 16;

        ushort major = U16(header[4..]);
        ushort minor = U16(header[6..]);
        if (major != 2)
            ThrowCorrupt(0, $"unsupported pcap version {major}.{minor}");
        SnapLength = U32(header[16..]);
        _snapLength = EffectiveSnapLength(SnapLength);
        uint linkField = U32(header[20..]);
        // The low 16 bits are the link type; the upper bits may carry FCS information.
        uint link = linkField & 0xFFFF;
        if (!IsSupported(link))
            ThrowUnsupportedLinkType(0, link);
        LinkType = (LinkType)link;
        input.Advance(FileHeaderLength);
    }

    /// <summary>The file's link type.</summary>
    public LinkType LinkType { get; }

    /// <summary>The snap length from the file header, as written.</summary>
    public uint SnapLength { get; }

    /// <summary>True for the nanosecond-resolution format.</summary>
    public bool IsNanosecond { get; }

    public override bool TryReadNext(out RawFrame frame)
    {
        var input = Input;
        int headerLength = _recordHeaderLength;
        long offset = input.Position;
        if (!input.Ensure(headerLength))
        {
            if (input.Available == 0)
            {
                frame = default;
                return false;
            }
            ThrowTruncated(offset, "a packet record header");
        }

        var header = input.Peek(headerLength);
        uint seconds = U32(header);
        uint fraction = U32(header[4..]);
        uint capLength = U32(header[8..]);
        uint origLength = U32(header[12..]);

        int keep = (int)Math.Min(capLength, (uint)_snapLength);
        if (capLength > (uint)_snapLength && capLength > MaxSnapLength)
            ThrowCorrupt(offset, $"packet record claims a captured length of {capLength}, more than the maximum {MaxSnapLength}");
        // libpcap hands out at most the snap length and skips the rest of an over-long record; so do we.
        int total = headerLength + (int)capLength;
        if (!input.Ensure(total))
            ThrowTruncated(offset, "a packet");

        long timestamp = seconds * 1_000_000_000L + (long)fraction * _fracToNanos;
        int original = origLength > int.MaxValue ? int.MaxValue : (int)origLength;
        frame = new RawFrame(input.Peek(headerLength, keep), timestamp, original, LinkType, offset);
        input.Advance(total);
        return true;
    }

    private ushort U16(ReadOnlySpan<byte> s) =>
        _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    private uint U32(ReadOnlySpan<byte> s) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
}

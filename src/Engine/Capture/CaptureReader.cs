using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// Reads packets from a pcap or pcapng file (either possibly gzip-compressed), recognised by content.
/// Managed code only: no libpcap needed. One buffer is reused for every packet.
/// </summary>
public abstract class CaptureReader : IDisposable
{
    /// <summary>
    /// The largest captured length libpcap accepts for the link types we read (its MAXIMUM_SNAPLEN); a record
    /// claiming more is corrupt, and a snap length of 0 or above it means this.
    /// </summary>
    public const int MaxSnapLength = 262144;

    /// <summary>The file being read, as given to <see cref="Open(string)"/>.</summary>
    public string FilePath { get; protected init; } = "";

    /// <summary>Bytes consumed so far from the underlying file (compressed bytes for gzip), for progress.</summary>
    public abstract long BytesRead { get; }

    /// <summary>The size of the underlying file in bytes, when known.</summary>
    public abstract long? FileLength { get; }

    /// <summary>
    /// Hands out the next packet, valid until the next call. Returns false at a clean end of file.
    /// Throws <see cref="CaptureFormatException"/> for a truncated or corrupt file (after every good packet before it).
    /// </summary>
    public abstract bool TryReadNext(out RawFrame frame);

    /// <summary>Opens a capture file, detecting gzip, pcap (both byte orders, us/ns) and pcapng by content.</summary>
    public static CaptureReader Open(string path) => Open(path, map: false);

    /// <summary>
    /// Opens a capture file; with <paramref name="map"/>, a plain file is mapped into memory and read in place
    /// rather than copied through a buffer where a read lease makes that safe (see <see cref="LeasedFileMap"/>:
    /// reading a file in the page cache then costs a fraction of the copy).
    /// </summary>
    public static CaptureReader Open(string path, bool map) => Open(path, map, CaptureInput.DefaultMapWindowSize);

    /// <summary><see cref="Open(string, bool)"/>, mapping <paramref name="mapWindowSize"/> bytes at a time.</summary>
    internal static CaptureReader Open(string path, bool map, int mapWindowSize)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            bufferSize: 0, FileOptions.SequentialScan);
        try
        {
            return Open(stream, path, leaveOpen: false, map, mapWindowSize);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads a capture from a stream (which must be seekable when it may be gzip-compressed).
    /// <paramref name="name"/> is used in error messages as the file path.
    /// </summary>
    public static CaptureReader Open(Stream stream, string name, bool leaveOpen = false) =>
        Open(stream, name, leaveOpen, map: false, CaptureInput.DefaultMapWindowSize);

    private static CaptureReader Open(Stream stream, string name, bool leaveOpen, bool map, int mapWindowSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.CanSeek ? stream.Position : 0;
        long? length = stream.CanSeek ? stream.Length - start : null;

        Span<byte> magic = stackalloc byte[2];
        int got = ReadUpTo(stream, magic);
        bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        if (got > 0)
        {
            if (!stream.CanSeek)
                throw new ArgumentException("The capture stream must be seekable.", nameof(stream));
            stream.Position = start;
        }

        Stream content = gzip ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen) : stream;
        var source = new CaptureSource(name, stream, start, length, gzip);
        var input = new CaptureInput(content, name, leaveOpen: gzip ? false : leaveOpen, map: map && !gzip, mapWindowSize: mapWindowSize);
        try
        {
            return Detect(input, source);
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static CaptureReader Detect(CaptureInput input, CaptureSource source)
    {
        if (!input.Ensure(4))
            throw NotACapture(source.Path, input.Available == 0 ? "the file is empty" : "the file is too short");
        var head = input.Peek(4);
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(head);
        uint be = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (le == PcapNgReader.SectionHeaderType)
            return new PcapNgReader(input, source);
        if (PcapReader.IsMagic(le) || PcapReader.IsMagic(be))
            return new PcapReader(input, source);
        if (head[0] == 0x1f && head[1] == 0x8b)
            throw NotACapture(source.Path, "gzip inside gzip is not a capture");
        throw NotACapture(source.Path, $"unknown magic number 0x{be:x8}");
    }

    private static int ReadUpTo(Stream stream, Span<byte> into)
    {
        int total = 0;
        while (total < into.Length)
        {
            int n = stream.Read(into[total..]);
            if (n <= 0)
                break;
            total += n;
        }
        return total;
    }

    private static CaptureFormatException NotACapture(string path, string detail) =>
        new(path, 0, CaptureProblem.NotACapture, $"not a pcap or pcapng capture file: {detail}");

    /// <summary>True when the value is a LINKTYPE_ the decoder understands.</summary>
    internal static bool IsSupported(uint value) => value switch
    {
        (uint)LinkType.Null or (uint)LinkType.Ethernet or (uint)LinkType.Ppp or (uint)LinkType.PppHdlc
            or (uint)LinkType.Raw or (uint)LinkType.Ieee80211 or (uint)LinkType.Loop or (uint)LinkType.LinuxSll
            or (uint)LinkType.Ieee80211Radiotap or (uint)LinkType.Ipv4 or (uint)LinkType.Ipv6
            or (uint)LinkType.LinuxSll2 => true,
        _ => false,
    };

    /// <summary>Snap length as libpcap applies it: 0 or more than the maximum means the maximum.</summary>
    internal static int EffectiveSnapLength(uint snapLength) =>
        snapLength == 0 || snapLength > MaxSnapLength ? MaxSnapLength : (int)snapLength;

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowTruncated(long offset, string what) =>
        throw new CaptureFormatException(FilePath, offset, CaptureProblem.Truncated, $"the file ends inside {what}");

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowCorrupt(long offset, string detail) =>
        throw new CaptureFormatException(FilePath, offset, CaptureProblem.Corrupt, detail);

    [DoesNotReturn, StackTraceHidden, MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowUnsupportedLinkType(long offset, uint value) =>
        throw new CaptureFormatException(FilePath, offset, CaptureProblem.UnsupportedLinkType,
            $"unsupported link type {value} (LINKTYPE_ value; supported: {string.Join(", ", SupportedNames())})");

    private static IEnumerable<string> SupportedNames()
    {
        foreach (var v in Enum.GetValues<LinkType>())
            yield return $"{v} ({(int)v})";
    }

    public abstract void Dispose();
}

/// <summary>Where a capture's bytes come from, for error messages and progress.</summary>
internal readonly record struct CaptureSource(string Path, Stream FileStream, long FileStart, long? FileLength, bool Compressed);

namespace ConnTrack.Engine.Capture;

/// <summary>
/// Reads packets from a pcap or pcapng file (either possibly gzip-compressed), recognised by content.
/// Managed code only: no libpcap needed. One buffer is reused for every packet.
/// </summary>
public abstract class CaptureReader : IDisposable
{
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
    public static CaptureReader Open(string path) => throw new NotImplementedException("capture reader: see issue 2");

    public abstract void Dispose();
}

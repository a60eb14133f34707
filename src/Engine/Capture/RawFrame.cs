namespace ConnTrack.Engine.Capture;

/// <summary>
/// One captured packet as a reader hands it out. <see cref="Data"/> points into the reader's own buffer
/// and is valid only until the next read: copy it if you need it longer.
/// </summary>
public readonly ref struct RawFrame
{
    /// <summary>The captured bytes, starting at the link-layer header.</summary>
    public readonly ReadOnlySpan<byte> Data;
    /// <summary>Packet time in nanoseconds since the Unix epoch.</summary>
    public readonly long Timestamp;
    /// <summary>The length of the packet on the wire (may exceed Data.Length when the snap length cut it).</summary>
    public readonly int OriginalLength;
    public readonly LinkType LinkType;
    /// <summary>Byte offset of this packet's record in the (decompressed) file, for error messages.</summary>
    public readonly long Offset;

    public RawFrame(ReadOnlySpan<byte> data, long timestamp, int originalLength, LinkType linkType, long offset)
    {
        Data = data;
        Timestamp = timestamp;
        OriginalLength = originalLength;
        LinkType = linkType;
        Offset = offset;
    }
}

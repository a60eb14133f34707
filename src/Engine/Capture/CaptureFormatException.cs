namespace ConnTrack.Engine.Capture;

/// <summary>What is wrong with a capture file.</summary>
public enum CaptureProblem
{
    /// <summary>The file is not pcap, pcapng or gzip of either.</summary>
    NotACapture,
    /// <summary>The file ends in the middle of a header or packet.</summary>
    Truncated,
    /// <summary>A header holds impossible values (lengths, magic, block sizes).</summary>
    Corrupt,
    /// <summary>The link type is one the decoder does not understand.</summary>
    UnsupportedLinkType,
}

/// <summary>
/// A capture file could not be read (further). Names the file and the byte offset (in the decompressed
/// stream for gzip input) where the problem is, so a user can find it.
/// </summary>
public sealed class CaptureFormatException : IOException
{
    public string FilePath { get; }
    public long Offset { get; }
    public CaptureProblem Problem { get; }

    public CaptureFormatException(string filePath, long offset, CaptureProblem problem, string detail)
        : base($"{filePath}: {detail} (at byte offset {offset})")
    {
        FilePath = filePath;
        Offset = offset;
        Problem = problem;
    }
}

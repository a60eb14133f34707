using ConnTrack.Engine.Capture;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// Read-ConnTrace over a capture cut into many small files, as a sensor rotating its capture every few hundred
/// packets leaves them, against the same packets in one file: the cost a file adds (opening it, handing it to the
/// engine's reading thread, PowerShell's path handling). The files are one trace, so the records are the same.
/// </summary>
public static class RotatedFiles
{
    public const int Files = 2000;
    public const int PacketsPerFile = 250;

    /// <summary>
    /// The first <see cref="Files"/> x <see cref="PacketsPerFile"/> packets of <paramref name="capture"/> as one file
    /// and as <see cref="Files"/> files in a folder beside it (made once; kept while the capture's name is the same).
    /// Returns the one file and the wildcard path of the many, or null when the capture is too short.
    /// </summary>
    public static (string Whole, string Parts)? Prepare(string capture)
    {
        string dir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(capture))!, $"rotated-{Path.GetFileNameWithoutExtension(capture)}");
        string whole = dir + ".pcap";
        string done = Path.Combine(dir, ".complete");
        string parts = Path.Combine(dir, "part-*.pcap");
        if (File.Exists(done) && File.Exists(whole))
            return (whole, parts);

        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        using var reader = CaptureReader.Open(capture, map: false);
        PcapWriter? all = null, part = null;
        int written = 0;
        try
        {
            while (written < Files * PacketsPerFile && reader.TryReadNext(out var frame))
            {
                all ??= new PcapWriter(File.Create(whole), frame.LinkType, nanosecond: true);
                if (written % PacketsPerFile == 0)
                {
                    part?.Dispose();
                    part = new PcapWriter(File.Create(Path.Combine(dir, $"part-{written / PacketsPerFile:D5}.pcap")), frame.LinkType, nanosecond: true);
                }
                all.WritePacket(frame.Data, frame.Timestamp, frame.OriginalLength);
                part!.WritePacket(frame.Data, frame.Timestamp, frame.OriginalLength);
                written++;
            }
        }
        finally
        {
            part?.Dispose();
            all?.Dispose();
        }
        if (written < Files * PacketsPerFile)
            return null;
        File.WriteAllText(done, $"{Files} files of {PacketsPerFile} packets from {Path.GetFileName(capture)}\n");
        return (whole, parts);
    }
}

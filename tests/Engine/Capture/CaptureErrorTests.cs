using System.Buffers.Binary;
using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

public class CaptureErrorTests
{
    private const long T0 = 1_600_000_000_000_000_123L;

    private static byte[] ThreePackets(bool nanosecond = true) =>
        Pcap(LinkType.Ethernet, nanosecond, false, 65535, (Payload(100, 1), T0, 100), (Payload(200, 2), T0 + 1, 200), (Payload(300, 3), T0 + 2, 300));

    [Fact]
    public void GzipOfPcapIsDetectedByContent()
    {
        var plain = ThreePackets();
        var gz = Gzip(plain);
        using var reader = OpenBytes(gz, "capture.pcap");     // the name says nothing about gzip
        Assert.True(((FileCaptureReader)reader).IsCompressed);
        Assert.IsType<PcapReader>(reader);
        Assert.Equal(gz.Length, reader.FileLength);
        var frames = ReadAll(reader);
        Assert.Equal(3, frames.Count);
        Assert.Equal(Payload(300, 3), frames[2].Data);
        Assert.Equal(T0 + 2, frames[2].Timestamp);
        Assert.Equal(24 + 116 + 216, frames[2].Offset);           // offsets in the decompressed stream
        Assert.Equal(gz.Length, reader.BytesRead);                 // progress in compressed bytes
        Assert.Equal(plain.Length, ((FileCaptureReader)reader).Position);
    }

    [Fact]
    public void GzipOfPcapNg()
    {
        var ng = new PcapNgBuilder().Section(true).Interface((ushort)LinkType.Raw, 65535, tsresol: 9)
            .Enhanced(0, 77, Payload(21, 1)).ToArray();
        using var reader = OpenBytes(Gzip(ng), "x.gz");
        Assert.IsType<PcapNgReader>(reader);
        var f = Assert.Single(ReadAll(reader));
        Assert.Equal((77L, LinkType.Raw), (f.Timestamp, f.LinkType));
        Assert.Equal(Payload(21, 1), f.Data);
    }

    [Fact]
    public void TruncatedLastPacketComesAfterEveryGoodPacket()
    {
        var bytes = ThreePackets();
        var cut = bytes[..^10];
        var (frames, error) = ReadUntilError(cut, "cut.pcap");
        Assert.Equal(2, frames.Count);
        Assert.Equal(Payload(200, 2), frames[1].Data);
        Assert.Equal(CaptureProblem.Truncated, error.Problem);
        Assert.Equal(24 + 116 + 216, error.Offset);
        Assert.Equal("cut.pcap", error.FilePath);
        Assert.Contains("cut.pcap", error.Message);
        Assert.Contains((24 + 116 + 216).ToString(), error.Message);
    }

    [Fact]
    public void TruncatedInsideARecordHeader()
    {
        var cut = ThreePackets()[..(24 + 116 + 7)];
        var (frames, error) = ReadUntilError(cut);
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Truncated, error.Problem);
        Assert.Equal(24 + 116, error.Offset);
    }

    [Fact]
    public void TruncatedGzipReportsTheDecompressedOffset()
    {
        // compress only the first part, so the decompressed stream ends inside the third packet
        var cut = ThreePackets()[..^10];
        var (frames, error) = ReadUntilError(Gzip(cut), "cut.pcap.gz");
        Assert.Equal(2, frames.Count);
        Assert.Equal(CaptureProblem.Truncated, error.Problem);
        Assert.Equal(24 + 116 + 216, error.Offset);
    }

    [Fact]
    public void GzipStreamCutShortIsAnErrorAfterTheGoodPackets()
    {
        var many = Pcap(LinkType.Ethernet, false, false, 65535,
            Enumerable.Range(0, 200).Select(i => (Payload(1000, i), T0 + i * 1000L, 1000)).ToArray());
        var gz = Gzip(many);
        var (frames, error) = ReadUntilError(gz[..(gz.Length / 2)]);
        Assert.NotEmpty(frames);
        Assert.True(frames.Count < 200);
        for (int i = 0; i < frames.Count; i++)
            Assert.Equal(Payload(1000, i), frames[i].Data);
        Assert.Equal(24 + frames.Count * 1016L, error.Offset);
        Assert.Contains(error.Problem, new[] { CaptureProblem.Truncated, CaptureProblem.Corrupt });
    }

    [Fact]
    public void TruncatedPcapNgBlock()
    {
        var b = new PcapNgBuilder().Section(false).Interface((ushort)LinkType.Ethernet, 65535)
            .Enhanced(0, 1, Payload(10, 1));
        long bad = b.Position;
        b.Enhanced(0, 2, Payload(100, 2));
        var bytes = b.ToArray()[..^20];
        var (frames, error) = ReadUntilError(bytes);
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Truncated, error.Problem);
        Assert.Equal(bad, error.Offset);
    }

    [Fact]
    public void AbsurdCapturedLengthIsCorrupt()
    {
        var bytes = ThreePackets();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24 + 116 + 8), 0x7000_0000);
        var (frames, error) = ReadUntilError(bytes);
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(24 + 116, error.Offset);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xd4, 0xc3 })]
    [InlineData(new byte[] { 0x3c, 0x68, 0x74, 0x6d, 0x6c, 0x3e, 0x0a, 0x0a })]   // "<html>"
    [InlineData(new byte[] { 0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0 })]    // zip
    public void GarbageIsNotACapture(byte[] bytes)
    {
        var e = Assert.Throws<CaptureFormatException>(() => OpenBytes(bytes, "junk.bin"));
        Assert.Equal(CaptureProblem.NotACapture, e.Problem);
        Assert.Equal("junk.bin", e.FilePath);
    }

    [Fact]
    public void GzipOfGarbageIsNotACapture()
    {
        var e = Assert.Throws<CaptureFormatException>(() => OpenBytes(Gzip("hello, world, not a capture"u8.ToArray())));
        Assert.Equal(CaptureProblem.NotACapture, e.Problem);
    }

    [Fact]
    public void GarbageFileOnDiskIsNotACaptureAndIsClosed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"conntrack-{Guid.NewGuid():N}.pcap");
        File.WriteAllText(path, "this is a text file, not a capture\n");
        try
        {
            var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(path));
            Assert.Equal(CaptureProblem.NotACapture, e.Problem);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);   // would fail on Windows if the reader had leaked the handle
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void UnsupportedLinkTypeInPcapHeaderIsNamed()
    {
        var bytes = Pcap(LinkType.Ethernet, false, false, 65535, (Payload(10, 1), T0, 10));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), 147);
        var e = Assert.Throws<CaptureFormatException>(() => OpenBytes(bytes));
        Assert.Equal(CaptureProblem.UnsupportedLinkType, e.Problem);
        Assert.Contains("147", e.Message);
        Assert.Equal(0, e.Offset);
    }

    [Fact]
    public void TruncatedPcapFileHeader()
    {
        var e = Assert.Throws<CaptureFormatException>(() => OpenBytes(ThreePackets()[..20]));
        Assert.Equal(CaptureProblem.Truncated, e.Problem);
        Assert.Equal(0, e.Offset);
    }
}

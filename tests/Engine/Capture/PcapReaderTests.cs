using System.Buffers.Binary;
using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

public class PcapReaderTests
{
    // 2024-02-29T12:34:56.123456789Z
    private const long T0 = 1_709_210_096_123_456_789L;

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ReadsBothByteOrdersAndResolutions(bool nanosecond, bool bigEndian)
    {
        var p1 = Payload(60, 1);
        var p2 = Payload(1514, 7);
        var bytes = Pcap(LinkType.Ethernet, nanosecond, bigEndian, 65535, (p1, T0, 60), (p2, T0 + 1_000_999, 1514));

        // the magic in the file is the one asked for
        uint magic = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        Assert.Equal(nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u, magic);

        using var reader = OpenBytes(bytes);
        var pcap = Assert.IsType<PcapReader>(reader);
        Assert.Equal(LinkType.Ethernet, pcap.LinkType);
        Assert.Equal(65535u, pcap.SnapLength);
        Assert.Equal(nanosecond, pcap.IsNanosecond);
        var frames = ReadAll(reader);

        Assert.Equal(2, frames.Count);
        Assert.Equal(p1, frames[0].Data);
        Assert.Equal(p2, frames[1].Data);
        // ns files keep every nanosecond; us files keep the microseconds exactly
        Assert.Equal(nanosecond ? T0 : 1_709_210_096_123_456_000L, frames[0].Timestamp);
        Assert.Equal(nanosecond ? T0 + 1_000_999 : 1_709_210_096_124_457_000L, frames[1].Timestamp);
        Assert.Equal(60, frames[0].OriginalLength);
        Assert.Equal(1514, frames[1].OriginalLength);
        Assert.Equal(24, frames[0].Offset);
        Assert.Equal(24 + 16 + 60, frames[1].Offset);
        Assert.All(frames, f => Assert.Equal(LinkType.Ethernet, f.LinkType));
        Assert.Equal(bytes.Length, reader.BytesRead);
        Assert.Equal(bytes.Length, reader.FileLength);
    }

    [Fact]
    public void LargestPcapTimestampIsExact()
    {
        long ts = uint.MaxValue * 1_000_000_000L + 999_999_999;
        var frames = ReadAll(Pcap(LinkType.Raw, true, false, 100, (Payload(20, 0), ts, 20)));
        Assert.Equal(ts, Assert.Single(frames).Timestamp);
    }

    [Fact]
    public void SnapLengthCutPacketKeepsItsOriginalLength()
    {
        var full = Payload(200, 3);
        var bytes = Pcap(LinkType.Ethernet, false, false, 96, (full, T0, 200), (Payload(50, 9), T0, 50));
        var frames = ReadAll(bytes);
        Assert.Equal(96, frames[0].Data.Length);
        Assert.Equal(full[..96], frames[0].Data);
        Assert.Equal(200, frames[0].OriginalLength);
        Assert.Equal(50, frames[1].Data.Length);
        Assert.Equal(50, frames[1].OriginalLength);
    }

    [Fact]
    public void RecordLongerThanSnapLengthIsCutToItLikeLibpcap()
    {
        // header snaplen 64, but a record (written by some other tool) carries 100 bytes: libpcap hands out 64
        var bytes = Pcap(LinkType.Ethernet, false, false, 1000, (Payload(100, 5), T0, 100), (Payload(10, 1), T0, 10));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 64);
        var frames = ReadAll(bytes);
        Assert.Equal(2, frames.Count);
        Assert.Equal(Payload(100, 5)[..64], frames[0].Data);
        Assert.Equal(Payload(10, 1), frames[1].Data);
    }

    [Fact]
    public void FcsBitsInTheLinkTypeFieldAreIgnored()
    {
        var bytes = Pcap(LinkType.Ethernet, false, false, 1000, (Payload(10, 1), T0, 10));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), 1u | (1u << 26) | (4u << 28));
        Assert.Equal(LinkType.Ethernet, Assert.Single(ReadAll(bytes)).LinkType);
    }

    [Fact]
    public void ModifiedPcapRecordsHaveLongerHeaders()
    {
        var header = Pcap(LinkType.Ethernet, false, false, 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xa1b2cd34);
        var rec = new byte[24 + 5];
        BinaryPrimitives.WriteUInt32LittleEndian(rec, 100);
        BinaryPrimitives.WriteUInt32LittleEndian(rec.AsSpan(4), 250);
        BinaryPrimitives.WriteUInt32LittleEndian(rec.AsSpan(8), 5);
        BinaryPrimitives.WriteUInt32LittleEndian(rec.AsSpan(12), 5);
        rec[16] = 0xEE; // ifindex etc.: not packet data
        Payload(5, 40).CopyTo(rec, 24);
        var frame = Assert.Single(ReadAll([.. header, .. rec]));
        Assert.Equal(Payload(5, 40), frame.Data);
        Assert.Equal(100_000_250_000L, frame.Timestamp);
    }

    [Fact]
    public void OpenByPathReportsProgressAndPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"conntrack-{Guid.NewGuid():N}.cap");
        try
        {
            var bytes = Pcap(LinkType.Raw, false, false, 65535, (Payload(40, 1), T0, 40), (Payload(40, 2), T0, 40));
            File.WriteAllBytes(path, bytes);
            using var reader = CaptureReader.Open(path);
            Assert.Equal(path, reader.FilePath);
            Assert.Equal(bytes.Length, reader.FileLength);
            Assert.False(((FileCaptureReader)reader).IsCompressed);
            Assert.True(reader.TryReadNext(out var f));
            Assert.Equal(LinkType.Raw, f.LinkType);
            Assert.Equal(24 + 16 + 40, reader.BytesRead);
            Assert.True(reader.TryReadNext(out _));
            Assert.False(reader.TryReadNext(out _));
            Assert.False(reader.TryReadNext(out _));
            Assert.Equal(bytes.Length, reader.BytesRead);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void HeaderOnlyFileHasNoPackets()
    {
        Assert.Empty(ReadAll(Pcap(LinkType.Ethernet, false, false, 65535)));
    }

    [Fact]
    public void ManyPacketsAcrossBufferRefillsComeOutIntact()
    {
        // more than the reader's 1 MiB buffer and chunk size, with packet sizes that straddle chunk borders
        var packets = new (byte[], long, int)[3000];
        for (int i = 0; i < packets.Length; i++)
            packets[i] = (Payload(60 + (i * 37) % 1400, i), T0 + i * 1000L, 60 + (i * 37) % 1400);
        var frames = ReadAll(Pcap(LinkType.Ethernet, true, false, 65535, packets));
        Assert.Equal(packets.Length, frames.Count);
        for (int i = 0; i < packets.Length; i++)
        {
            Assert.Equal(packets[i].Item1, frames[i].Data);
            Assert.Equal(packets[i].Item2, frames[i].Timestamp);
        }
    }

    [Fact]
    public void WriterCutsToSnapLengthAndRejectsBadInput()
    {
        var ms = new MemoryStream();
        using var w = new PcapWriter(ms, LinkType.Ethernet, snapLength: 10, leaveOpen: true);
        w.WritePacket(Payload(30, 0), 1_500_000_000L);
        Assert.Equal(24 + 16 + 10, ms.Length);
        Assert.Equal(10u, BinaryPrimitives.ReadUInt32LittleEndian(ms.GetBuffer().AsSpan(24 + 8)));
        Assert.Equal(30u, BinaryPrimitives.ReadUInt32LittleEndian(ms.GetBuffer().AsSpan(24 + 12)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(ms.GetBuffer().AsSpan(24)));
        Assert.Equal(500_000u, BinaryPrimitives.ReadUInt32LittleEndian(ms.GetBuffer().AsSpan(24 + 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WritePacket(Payload(5, 0), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WritePacket(Payload(5, 0), 0, 4));
        Assert.Equal(1, w.PacketCount);
    }
}

using System.Buffers.Binary;
using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

public class PcapNgReaderTests
{
    private const long Sec = 1_700_000_000L;

    [Fact]
    public void InterfacesWithDifferentLinkTypesAndResolutions()
    {
        var b = new PcapNgBuilder().Section(bigEndian: false)
            .Interface((ushort)LinkType.Ethernet, 65535, tsresol: 6)
            .Interface((ushort)LinkType.Raw, 65535, tsresol: 9)
            .Interface((ushort)LinkType.Ipv4, 0, tsresol: 0x80 | 10)       // 2^-10 s
            .Interface((ushort)LinkType.LinuxSll, 65535)                   // no option: microseconds
            .Interface((ushort)LinkType.Ethernet, 65535, tsresol: 3, tsoffset: 100);
        long o0 = b.Position;
        b.Enhanced(0, (ulong)(Sec * 1_000_000 + 123_456), Payload(60, 1));
        long o1 = b.Position;
        b.Enhanced(1, (ulong)(Sec * 1_000_000_000 + 123_456_789), Payload(40, 2));
        b.Enhanced(2, (ulong)(Sec << 10 | 1), Payload(20, 3));
        b.Enhanced(2, (ulong)(Sec << 10 | 512), Payload(20, 4));
        b.Enhanced(3, (ulong)(Sec * 1_000_000 + 7), Payload(44, 5));
        b.Enhanced(4, (ulong)(Sec * 1_000 + 5), Payload(44, 6));

        using var reader = OpenBytes(b.ToArray(), "two.pcapng");
        var ng = Assert.IsType<PcapNgReader>(reader);
        var frames = ReadAll(reader);
        Assert.Equal(5, ng.InterfaceCount);
        Assert.Equal(LinkType.Ipv4, ng.GetInterfaceLinkType(2));

        Assert.Equal(6, frames.Count);
        Assert.Equal([LinkType.Ethernet, LinkType.Raw, LinkType.Ipv4, LinkType.Ipv4, LinkType.LinuxSll, LinkType.Ethernet],
            frames.Select(f => f.LinkType));
        Assert.Equal(Sec * 1_000_000_000 + 123_456_000, frames[0].Timestamp);
        Assert.Equal(Sec * 1_000_000_000 + 123_456_789, frames[1].Timestamp);
        Assert.Equal(Sec * 1_000_000_000 + 976_562, frames[2].Timestamp);     // 1/1024 s = 976562.5 ns, cut
        Assert.Equal(Sec * 1_000_000_000 + 500_000_000, frames[3].Timestamp);
        Assert.Equal(Sec * 1_000_000_000 + 7_000, frames[4].Timestamp);
        Assert.Equal((Sec + 100) * 1_000_000_000 + 5_000_000, frames[5].Timestamp);
        Assert.Equal(Payload(60, 1), frames[0].Data);
        Assert.Equal(Payload(40, 2), frames[1].Data);
        Assert.Equal(Payload(44, 6), frames[5].Data);
        Assert.Equal(o0, frames[0].Offset);
        Assert.Equal(o1, frames[1].Offset);
    }

    [Fact]
    public void SectionsWithDifferentByteOrdersEachHaveTheirOwnInterfaces()
    {
        var b = new PcapNgBuilder().Section(bigEndian: false)
            .Interface((ushort)LinkType.Ethernet, 65535, tsresol: 9)
            .Enhanced(0, (ulong)(Sec * 1_000_000_000 + 1), Payload(30, 1))
            .Section(bigEndian: true)
            .Interface((ushort)LinkType.Raw, 65535, tsresol: 6)
            .Enhanced(0, (ulong)(Sec * 1_000_000 + 2), Payload(31, 2), origLength: 1000)
            .Section(bigEndian: false)
            .Interface((ushort)LinkType.Null, 65535)
            .Enhanced(0, (ulong)(Sec * 1_000_000 + 3), Payload(32, 3));

        using var reader = OpenBytes(b.ToArray());
        var frames = ReadAll(reader);
        Assert.Equal(3, ((PcapNgReader)reader).SectionCount);
        Assert.Equal(3, frames.Count);
        Assert.Equal((LinkType.Ethernet, Sec * 1_000_000_000 + 1), (frames[0].LinkType, frames[0].Timestamp));
        Assert.Equal((LinkType.Raw, Sec * 1_000_000_000 + 2_000), (frames[1].LinkType, frames[1].Timestamp));
        Assert.Equal((LinkType.Null, Sec * 1_000_000_000 + 3_000), (frames[2].LinkType, frames[2].Timestamp));
        Assert.Equal(Payload(31, 2), frames[1].Data);
        Assert.Equal(1000, frames[1].OriginalLength);
    }

    [Fact]
    public void PacketBeforeItsSectionsInterfaceIsCorrupt()
    {
        // interface 0 of the first section does not carry over into the second
        var b = new PcapNgBuilder().Section(false)
            .Interface((ushort)LinkType.Ethernet, 65535)
            .Enhanced(0, 1, Payload(10, 1))
            .Section(true);
        long bad = b.Position;
        b.Enhanced(0, 1, Payload(10, 2));
        var (frames, error) = ReadUntilError(b.ToArray(), "x.pcapng");
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(bad, error.Offset);
        Assert.Contains("interface 0", error.Message);
    }

    [Fact]
    public void SimpleAndObsoletePacketBlocks()
    {
        var b = new PcapNgBuilder().Section(true)
            .Interface((ushort)LinkType.Ethernet, 50, tsresol: 9)
            .Simple(Payload(40, 1), 40)                                   // before any timestamp: 0
            .ObsoletePacket(0, (ulong)(Sec * 1_000_000_000 + 42), Payload(48, 2), 1500)
            .Simple(Payload(50, 3), 1200)                                  // snap length 50 of 1200
            .Simple(Payload(36, 4), 33);                                   // padded data: original length 33 wins

        var frames = ReadAll(b.ToArray());
        Assert.Equal(4, frames.Count);
        Assert.Equal(0, frames[0].Timestamp);
        Assert.Equal(Payload(40, 1), frames[0].Data);
        Assert.Equal(Sec * 1_000_000_000 + 42, frames[1].Timestamp);
        Assert.Equal(1500, frames[1].OriginalLength);
        Assert.Equal(Payload(48, 2), frames[1].Data);
        Assert.Equal(Sec * 1_000_000_000 + 42, frames[2].Timestamp);        // reuses the last timestamp
        Assert.Equal(1200, frames[2].OriginalLength);
        Assert.Equal(Payload(50, 3), frames[2].Data);
        Assert.Equal(Payload(36, 4)[..33], frames[3].Data);
        Assert.Equal(33, frames[3].OriginalLength);
    }

    [Fact]
    public void UnknownBlocksAreSkipped()
    {
        var b = new PcapNgBuilder().Section(false)
            .Block(0x0BAD, Payload(17, 0))                               // unknown type
            .Interface((ushort)LinkType.Ethernet, 65535)
            .Block(4, new byte[8])                                       // name resolution
            .Block(5, Payload(300_000, 0))                               // big interface statistics: streamed past
            .Enhanced(0, 5, Payload(10, 1))
            .Block(0x00000BAD | 0x80000000u, Payload(3, 0))              // local-use block
            .Enhanced(0, 6, Payload(11, 2));
        var frames = ReadAll(b.ToArray());
        Assert.Equal(2, frames.Count);
        Assert.Equal(Payload(10, 1), frames[0].Data);
        Assert.Equal(6_000, frames[1].Timestamp);
    }

    [Fact]
    public void EnhancedPacketClaimingMoreThanItsBlockIsCorrupt()
    {
        var b = new PcapNgBuilder().Section(false).Interface((ushort)LinkType.Ethernet, 65535)
            .Enhanced(0, 1, Payload(10, 1));
        long bad = b.Position;
        b.Enhanced(0, 2, Payload(12, 2), capLength: 400);
        var (frames, error) = ReadUntilError(b.ToArray());
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(bad, error.Offset);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EnhancedPacketBlockTooShortForItsFieldsIsCorrupt(bool bigEndian)
    {
        var b = new PcapNgBuilder().Section(bigEndian).Interface((ushort)LinkType.Ethernet, 65535)
            .Enhanced(0, 1, Payload(10, 1));
        long bad = b.Position;
        // 28 bytes: type, length, 16 bytes of body (an EPB's fixed fields take 20), trailing length.
        byte[] block = new byte[28];
        Put(block, 0, 6, bigEndian);
        Put(block, 4, 28, bigEndian);
        Put(block, 24, 28, bigEndian);
        b.Raw(block);
        var (frames, error) = ReadUntilError(b.ToArray());
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(bad, error.Offset);
        Assert.Contains("packet block too short", error.Message);

        static void Put(byte[] into, int at, uint value, bool big)
        {
            if (big) BinaryPrimitives.WriteUInt32BigEndian(into.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt32LittleEndian(into.AsSpan(at), value);
        }
    }

    [Fact]
    public void BadBlockLengthIsCorrupt()
    {
        var b = new PcapNgBuilder().Section(false).Interface((ushort)LinkType.Ethernet, 65535)
            .Enhanced(0, 1, Payload(10, 1));
        long bad = b.Position;
        b.Raw([6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);        // length 13: not a multiple of 4
        var (frames, error) = ReadUntilError(b.ToArray());
        Assert.Single(frames);
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(bad, error.Offset);
        Assert.Contains("13", error.Message);
    }

    [Fact]
    public void MismatchedTrailingLengthIsCorrupt()
    {
        var b = new PcapNgBuilder().Section(false).Interface((ushort)LinkType.Ethernet, 65535);
        long bad = b.Position;
        b.Enhanced(0, 1, Payload(8, 1));
        var bytes = b.ToArray();
        bytes[^4] ^= 0x10;
        var (frames, error) = ReadUntilError(bytes);
        Assert.Empty(frames);
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(bad, error.Offset);
    }

    [Fact]
    public void AbsurdBlockLengthIsCorruptNotAnAllocation()
    {
        var b = new PcapNgBuilder().Section(false).Interface((ushort)LinkType.Ethernet, 65535);
        long bad = b.Position;
        b.Raw([6, 0, 0, 0, 0xF0, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]);
        var (_, error) = ReadUntilError(b.ToArray());
        Assert.Equal(CaptureProblem.Corrupt, error.Problem);
        Assert.Equal(bad, error.Offset);
    }

    [Fact]
    public void UnsupportedLinkTypeIsNamedAtTheFirstPacketOfThatInterface()
    {
        // Capture tools describe every interface; Zeek reads such a file as long as its packets are on
        // interfaces it understands (conformance trace ldap/gap-data-missing.pcapng has unused type-274 ones).
        var b = new PcapNgBuilder().Section(false)
            .Interface((ushort)LinkType.Ethernet, 65535)
            .Interface(147, 65535)                                       // LINKTYPE_USER0
            .Enhanced(0, 1, Payload(10, 1))
            .Enhanced(0, 2, Payload(10, 2));
        long bad = b.Position;
        b.Enhanced(1, 3, Payload(10, 3));
        var (frames, error) = ReadUntilError(b.ToArray());
        Assert.Equal(2, frames.Count);
        Assert.Equal(CaptureProblem.UnsupportedLinkType, error.Problem);
        Assert.Equal(bad, error.Offset);
        Assert.Contains("unsupported link type 147", error.Message);
    }

    [Fact]
    public void SectionHeaderWithoutByteOrderMagicIsNotACapture()
    {
        var bytes = new PcapNgBuilder().Section(false).ToArray();
        bytes[8] = 0x99;
        var e = Assert.Throws<CaptureFormatException>(() => OpenBytes(bytes));
        Assert.Equal(CaptureProblem.NotACapture, e.Problem);
    }
}

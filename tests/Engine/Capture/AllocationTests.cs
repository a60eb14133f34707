using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

public class AllocationTests
{
    private const int Packets = 20_000;

    private static byte[] BigPcap()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, 65535, nanosecond: true, leaveOpen: true))
            for (int i = 0; i < Packets; i++)
                w.WritePacket(Payload(60 + (i * 97) % 1450, i), 1_700_000_000_000_000_000L + i);
        return ms.ToArray();
    }

    private static byte[] BigPcapNg()
    {
        var b = new PcapNgBuilder().Section(false)
            .Interface((ushort)LinkType.Ethernet, 65535, tsresol: 9)
            .Interface((ushort)LinkType.Raw, 65535, tsresol: 0x80 | 20);
        for (int i = 0; i < Packets; i++)
        {
            if (i % 3 == 2)
                b.Simple(Payload(60, i), 60);
            else
                b.Enhanced((uint)(i & 1), (ulong)i * 1000, Payload(60 + (i * 97) % 1450, i));
            if (i % 100 == 0)
                b.Block(4, new byte[16]);
        }
        return b.ToArray();
    }

    public static TheoryData<string> Kinds => ["pcap", "pcapng", "pcap.gz", "pcapng.gz"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReadingPacketsAllocatesNothing(string kind)
    {
        byte[] bytes = kind switch
        {
            "pcap" => BigPcap(),
            "pcapng" => BigPcapNg(),
            "pcap.gz" => Gzip(BigPcap()),
            _ => Gzip(BigPcapNg()),
        };
        using var reader = OpenBytes(bytes, kind);
        // warm up: JIT tiers, the buffer reaches its working size
        long checksum = 0;
        for (int i = 0; i < 500; i++)
        {
            Assert.True(reader.TryReadNext(out var f));
            checksum += f.Data.Length;
        }

        // The rest of the file in three rounds of a third each (the last one reads to the end).
        const int PerRound = (Packets - 500) / 3;
        int count = 500;
        long allocated = AllocationMeter.FewestBytes(3, round =>
        {
            while ((round == 2 || count < 500 + (round + 1) * PerRound) && reader.TryReadNext(out var frame))
            {
                checksum += frame.Data[0] + frame.Timestamp + frame.OriginalLength;
                count++;
            }
        });

        Assert.Equal(Packets, count);
        Assert.NotEqual(0, checksum);
        // Zero per packet: anything a packet allocated would show as thousands of bytes in every round; the
        // bound is under one byte per packet rather than exactly zero for what the runtime itself may allocate.
        Assert.True(allocated < PerRound, $"{allocated} bytes allocated reading {PerRound} packets (the fewest of 3 rounds)");
    }
}

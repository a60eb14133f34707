using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using Xunit;

namespace ConnTrack.Engine.Tests.Decoding;

public class ChecksumTests
{
    // The plain definition: big-endian 16-bit words, an odd last byte as a high byte.
    private static ushort Reference(ulong sum, byte[] data)
    {
        for (int i = 0; i + 1 < data.Length; i += 2)
            sum += (uint)(data[i] << 8 | data[i + 1]);
        if (data.Length % 2 == 1)
            sum += (uint)data[^1] << 8;
        return LoopFold(sum);
    }

    // The plain fold: add the carries back in until 16 bits remain.
    private static ushort LoopFold(ulong sum)
    {
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(1UL, 1)]
    [InlineData(0xFFFFUL, 0xFFFF)]
    [InlineData(0x1_0000UL, 1)]
    [InlineData(0x1_FFFEUL, 0xFFFF)]
    [InlineData(0xFFFF_FFFFUL, 0xFFFF)]
    [InlineData(0x1_FFFF_FFFEUL, 0xFFFF)]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, 0xFFFF)]
    [InlineData(0x8000_0000_0000_0000UL, 0x8000)]
    [InlineData(0x0001_0000_FFFF_0001UL, 0x0002)]
    public void UnrolledFoldGivesTheLoopsResult(ulong sum, int expected)
    {
        Assert.Equal(expected, LoopFold(sum));
        Assert.Equal(expected, Checksum.Fold(sum));
    }

    [Fact]
    public void UnrolledFoldMatchesTheLoopOnRandomSums()
    {
        var rng = new Random(7);
        for (int i = 0; i < 200_000; i++)
        {
            ulong sum = (ulong)rng.NextInt64() << (i % 3) ^ (ulong)rng.Next();
            sum >>= i % 50;
            Assert.Equal(LoopFold(sum), Checksum.Fold(sum));
        }
    }

    [Fact]
    public void VectorisedSumMatchesTheDefinitionForEveryLengthAndAlignment()
    {
        var rng = new Random(7);
        for (int len = 0; len <= 600; len++)
        {
            var data = new byte[len + 3];
            rng.NextBytes(data);
            for (int offset = 0; offset < 3; offset++)
            {
                var slice = data.AsSpan(offset, len);
                ulong start = (ulong)rng.Next(0, 1 << 20);
                Assert.Equal(Reference(start, slice.ToArray()), Checksum.Fold(Checksum.Add(start, slice)));
            }
        }
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    public void AllSameBytesAtTheLargestLengths(byte fill)
    {
        // All 0xFF: every lane takes its maximum for the whole length, the overflow case for the accumulators.
        foreach (int len in new[] { 65535, 65536, 262144, 262145, (1 << 21) + 40, (1 << 22) + 7 })
        {
            var data = new byte[len];
            Array.Fill(data, fill);
            Assert.Equal(Reference(0, data), Checksum.Fold(Checksum.Add(0, data)));
        }
    }

    [Fact]
    public void FoldedResultsKeepZeroAndAllOnesApart()
    {
        Assert.Equal(0, Checksum.Fold(Checksum.Add(0, new byte[64])));
        Assert.False(Checksum.IsValid(new byte[20]));
        var ones = new byte[64];
        Array.Fill(ones, (byte)0xFF);
        Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Add(0, ones)));
        Assert.True(Checksum.IsValid(ones));
    }

    [Fact]
    public void KnownIPv4HeaderAndUdpSegment()
    {
        // RFC 1071-style worked example: a real IPv4 header with its checksum (0xb861).
        byte[] ip = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        Assert.True(Checksum.IsValid(ip));
        ip[11] ^= 1;
        Assert.False(Checksum.IsValid(ip));

        // A UDP segment of 40 payload bytes, checksum computed here by the definition, then verified both ways.
        var src = IPAddr128.Parse("10.0.0.1");
        var dst = IPAddr128.Parse("10.0.0.2");
        var seg = new byte[48];
        seg[0] = 0x30; seg[1] = 0x39; seg[2] = 0x00; seg[3] = 0x35; seg[4] = 0; seg[5] = 48;
        for (int i = 8; i < seg.Length; i++) seg[i] = (byte)(i * 37);
        ulong pseudo = src.IPv4Value + dst.IPv4Value + 17u + 48u;
        ushort sum = (ushort)~Reference(pseudo, seg);
        seg[6] = (byte)(sum >> 8); seg[7] = (byte)sum;
        Assert.True(Checksum.IsValidWithPseudoHeader(src, dst, false, 17, seg));
        seg[30] ^= 0x10;
        Assert.False(Checksum.IsValidWithPseudoHeader(src, dst, false, 17, seg));
    }
}

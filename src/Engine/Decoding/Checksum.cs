using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Decoding;

/// <summary>
/// Internet (ones' complement) checksums, with the IPv4/IPv6 pseudo-headers. No allocation.
/// The data is summed in the machine's own byte order, 32 or 16 bytes at a time, and the folded result is
/// byte-swapped into network order (RFC 1071 §2(B): the ones' complement sum does not depend on byte order).
/// </summary>
internal static class Checksum
{
    /// <summary>Adds the 16-bit big-endian words of <paramref name="data"/> to a running sum (odd tail padded with zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        if (!BitConverter.IsLittleEndian)
            return AddBigEndianWords(sum, data);
        ushort folded = Fold(SumLittleEndianWords(data));
        return sum + BinaryPrimitives.ReverseEndianness(folded);
    }

    /// <summary>The word-by-word reference sum (also the path on a big-endian machine).</summary>
    internal static ulong AddBigEndianWords(ulong sum, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
            sum += BinaryPrimitives.ReadUInt32BigEndian(data.Slice(i));
        for (; i + 2 <= data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        return sum;
    }

    /// <summary>
    /// Sum of the data read as little-endian 16-bit words (an odd last byte as the low byte of a word), not folded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private static ulong SumLittleEndianWords(ReadOnlySpan<byte> data)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        ulong sum = 0;

        if (Vector256.IsHardwareAccelerated && length >= 64)
        {
            // Each 32-bit lane takes the low and the high word of its slot into separate accumulators; a lane
            // gains at most 0xFFFF per 32 bytes, so it cannot overflow within a block of 2^21 bytes.
            var mask = Vector256.Create(0xFFFFu);
            while (length - i >= 32)
            {
                nuint blockEnd = i + Math.Min((length - i) & ~(nuint)31, (nuint)1 << 21);
                var lo = Vector256<uint>.Zero;
                var hi = Vector256<uint>.Zero;
                for (; i < blockEnd; i += 32)
                {
                    var v = Vector256.LoadUnsafe(ref start, i).AsUInt32();
                    lo += v & mask;
                    hi += v >> 16;
                }
                sum += WideSum(lo) + WideSum(hi);
            }
        }
        else if (Vector128.IsHardwareAccelerated && length >= 32)
        {
            var mask = Vector128.Create(0xFFFFu);
            while (length - i >= 16)
            {
                nuint blockEnd = i + Math.Min((length - i) & ~(nuint)15, (nuint)1 << 20);
                var lo = Vector128<uint>.Zero;
                var hi = Vector128<uint>.Zero;
                for (; i < blockEnd; i += 16)
                {
                    var v = Vector128.LoadUnsafe(ref start, i).AsUInt32();
                    lo += v & mask;
                    hi += v >> 16;
                }
                var (a, b) = Vector128.Widen(lo);
                var (c, d) = Vector128.Widen(hi);
                sum += Vector128.Sum(a + b + c + d);
            }
        }

        // 8 bytes at a time with the carry folded back in (end-around carry).
        for (; length - i >= 8; i += 8)
        {
            ulong w = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i));
            ulong s = sum + w;
            sum = s + (s < w ? 1UL : 0UL);
        }
        // Folded to 33 bits, the sum has room for the last 0 to 7 bytes.
        sum = FoldTo32(sum);
        for (; length - i >= 2; i += 2)
            sum += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, i));
        if (i < length)
            sum += Unsafe.Add(ref start, i);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong WideSum(Vector256<uint> v)
    {
        var (a, b) = Vector256.Widen(v);
        return Vector256.Sum(a + b);
    }

    /// <summary>Folds a 64-bit ones' complement sum to at most 33 bits, keeping its value modulo 0xFFFF.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong FoldTo32(ulong sum) => (sum & 0xFFFF_FFFF) + (sum >> 32);

    /// <summary>Folds a running sum to 16 bits. A valid checksum region folds to 0xFFFF.</summary>
    /// <remarks>
    /// Four end-around-carry folds, no loop (so it inlines): 64 bits to at most 0x1_FFFF_FFFE, then to 0x2FFFE,
    /// 0x10001 and at most 0xFFFF. Each keeps the value modulo 0xFFFF and keeps a non-zero sum non-zero, so the
    /// result is the one a fold-until-16-bits loop gives.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>True when the data (including its checksum field) sums to 0xFFFF.</summary>
    public static bool IsValid(ReadOnlySpan<byte> data) => Fold(Add(0, data)) == 0xFFFF;

    /// <summary>True when a TCP/UDP/ICMPv6 segment with its pseudo-header sums to 0xFFFF.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public static bool IsValidWithPseudoHeader(in IPAddr128 src, in IPAddr128 dst, bool ipv6, byte protocol, ReadOnlySpan<byte> segment)
    {
        ulong sum = 0;
        if (ipv6)
        {
            sum += (src.Hi >> 32) + (src.Hi & 0xFFFF_FFFF) + (src.Lo >> 32) + (src.Lo & 0xFFFF_FFFF);
            sum += (dst.Hi >> 32) + (dst.Hi & 0xFFFF_FFFF) + (dst.Lo >> 32) + (dst.Lo & 0xFFFF_FFFF);
            sum += (uint)segment.Length;
        }
        else
        {
            sum += src.IPv4Value;
            sum += dst.IPv4Value;
            sum += (uint)(ushort)segment.Length;
        }
        sum += protocol;
        return Fold(Add(sum, segment)) == 0xFFFF;
    }
}

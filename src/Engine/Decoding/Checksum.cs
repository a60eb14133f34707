using System.Buffers.Binary;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Decoding;

/// <summary>Internet (ones' complement) checksums, with the IPv4/IPv6 pseudo-headers. No allocation.</summary>
internal static class Checksum
{
    /// <summary>Adds the 16-bit big-endian words of <paramref name="data"/> to a running sum (odd tail padded with zero).</summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
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

    /// <summary>Folds a running sum to 16 bits. A valid checksum region folds to 0xFFFF.</summary>
    public static ushort Fold(ulong sum)
    {
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>True when the data (including its checksum field) sums to 0xFFFF.</summary>
    public static bool IsValid(ReadOnlySpan<byte> data) => Fold(Add(0, data)) == 0xFFFF;

    /// <summary>True when a TCP/UDP/ICMPv6 segment with its pseudo-header sums to 0xFFFF.</summary>
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

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ConnTrack.Engine.Net;

/// <summary>
/// An IPv4 or IPv6 address held as a 128-bit value, IPv4 stored v4-mapped (::ffff:a.b.c.d) as Zeek's
/// PackedConnTuple does. A value type so the hot path never allocates an <see cref="IPAddress"/>.
/// </summary>
public readonly struct IPAddr128 : IEquatable<IPAddr128>, IComparable<IPAddr128>
{
    private const ulong V4MappedHi = 0UL;
    private const ulong V4MappedLoPrefix = 0x0000_FFFF_0000_0000UL;

    /// <summary>The first 64 bits, network order read as big-endian.</summary>
    public readonly ulong Hi;
    /// <summary>The last 64 bits, network order read as big-endian.</summary>
    public readonly ulong Lo;

    public IPAddr128(ulong hi, ulong lo) { Hi = hi; Lo = lo; }

    public static IPAddr128 FromIPv4(uint addressHostOrder) => new(V4MappedHi, V4MappedLoPrefix | addressHostOrder);

    /// <summary>Reads 4 bytes of an IPv4 address in network order.</summary>
    public static IPAddr128 FromIPv4Bytes(ReadOnlySpan<byte> bytes) => FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes));

    /// <summary>Reads 16 bytes of an IPv6 address in network order.</summary>
    public static IPAddr128 FromIPv6Bytes(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(8)));

    public bool IsIPv4 => Hi == V4MappedHi && (Lo & 0xFFFF_FFFF_0000_0000UL) == V4MappedLoPrefix;

    /// <summary>The IPv4 address in host order; only meaningful when <see cref="IsIPv4"/>.</summary>
    public uint IPv4Value => (uint)Lo;

    public static IPAddr128 FromIPAddress(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(b, out _);
            return FromIPv4Bytes(b);
        }
        address.TryWriteBytes(b, out _);
        return FromIPv6Bytes(b);
    }

    public static IPAddr128 Parse(string text) => FromIPAddress(IPAddress.Parse(text));

    public IPAddress ToIPAddress()
    {
        if (IsIPv4)
        {
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, IPv4Value);
            return new IPAddress(v4);
        }
        Span<byte> v6 = stackalloc byte[16];
        WriteBytes(v6);
        return new IPAddress(v6);
    }

    public void WriteBytes(Span<byte> destination16)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination16, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(destination16.Slice(8), Lo);
    }

    /// <summary>Formats the way Zeek writes addresses in conn.log (dotted quad, or RFC 5952 IPv6).</summary>
    public override string ToString() => ToIPAddress().ToString();

    public bool Equals(IPAddr128 other) => Hi == other.Hi && Lo == other.Lo;
    public override bool Equals(object? obj) => obj is IPAddr128 o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(Hi, Lo);
    public int CompareTo(IPAddr128 other) => Hi != other.Hi ? Hi.CompareTo(other.Hi) : Lo.CompareTo(other.Lo);
    public static bool operator ==(IPAddr128 a, IPAddr128 b) => a.Equals(b);
    public static bool operator !=(IPAddr128 a, IPAddr128 b) => !a.Equals(b);
    public static bool operator <(IPAddr128 a, IPAddr128 b) => a.CompareTo(b) < 0;
    public static bool operator >(IPAddr128 a, IPAddr128 b) => a.CompareTo(b) > 0;
}

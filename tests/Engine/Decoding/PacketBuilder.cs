using System.Buffers.Binary;
using System.Net;

namespace ConnTrack.Engine.Tests.Decoding;

/// <summary>Builds test packets by hand (network order), with an independent checksum routine.</summary>
internal static class PacketBuilder
{
    public static ushort InetSum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        uint sum = initial;
        for (int i = 0; i < data.Length; i += 2)
        {
            int word = data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0);
            sum += (uint)word;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    private static uint Pseudo(byte[] src, byte[] dst, byte proto, int length)
    {
        var b = new List<byte>();
        b.AddRange(src); b.AddRange(dst);
        if (src.Length == 16) { b.AddRange(new byte[] { (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, 0, 0, 0, proto }); }
        else { b.AddRange(new byte[] { 0, proto, (byte)(length >> 8), (byte)length }); }
        return (uint)(ushort)~InetSum(b.ToArray());
    }

    public static byte[] Tcp(string src, string dst, ushort sport, ushort dport, uint seq, uint ack, byte flags, ushort window,
        byte[]? options = null, byte[]? payload = null, bool badChecksum = false)
    {
        options ??= Array.Empty<byte>();
        payload ??= Array.Empty<byte>();
        int hdr = 20 + options.Length;
        var t = new byte[hdr + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(8), ack);
        t[12] = (byte)((hdr / 4) << 4);
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(14), window);
        options.CopyTo(t, 20);
        payload.CopyTo(t, hdr);
        SetL4Checksum(t, 16, src, dst, 6, badChecksum);
        return t;
    }

    public static byte[] Udp(string src, string dst, ushort sport, ushort dport, byte[] payload, bool badChecksum = false, bool zeroChecksum = false)
    {
        var u = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        payload.CopyTo(u, 8);
        if (!zeroChecksum) SetL4Checksum(u, 6, src, dst, 17, badChecksum);
        return u;
    }

    public static byte[] Icmp(byte type, byte code, byte[] payload, string? v6src = null, string? v6dst = null, bool badChecksum = false)
    {
        var m = new byte[8 + payload.Length];
        m[0] = type; m[1] = code;
        m[4] = 0x12; m[5] = 0x34; m[7] = 1;
        payload.CopyTo(m, 8);
        if (v6src != null) SetL4Checksum(m, 2, v6src, v6dst!, 58, badChecksum);
        else
        {
            ushort c = InetSum(m);
            if (badChecksum) c ^= 0x0101;
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), c);
        }
        return m;
    }

    private static void SetL4Checksum(byte[] seg, int at, string src, string dst, byte proto, bool bad)
    {
        var s = IPAddress.Parse(src).GetAddressBytes();
        var d = IPAddress.Parse(dst).GetAddressBytes();
        ushort c = InetSum(seg, Pseudo(s, d, proto, seg.Length));
        if (bad) c ^= 0x0101;
        BinaryPrimitives.WriteUInt16BigEndian(seg.AsSpan(at), c);
    }

    public static byte[] IPv4(string src, string dst, byte proto, byte[] payload, byte[]? options = null, ushort id = 1,
        int fragOffsetBytes = 0, bool mf = false, bool df = false, bool badChecksum = false, int? totalLength = null)
    {
        options ??= Array.Empty<byte>();
        int hdr = 20 + options.Length;
        var p = new byte[hdr + payload.Length];
        p[0] = (byte)(0x40 | (hdr / 4));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(totalLength ?? p.Length));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), (ushort)((fragOffsetBytes / 8) | (mf ? 0x2000 : 0) | (df ? 0x4000 : 0)));
        p[8] = 64; p[9] = proto;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(p, 12);
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(p, 16);
        options.CopyTo(p, 20);
        ushort c = InetSum(p.AsSpan(0, hdr));
        if (badChecksum) c ^= 0x0101;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), c);
        payload.CopyTo(p, hdr);
        return p;
    }

    /// <summary>IPv6 with the given extension headers (each: its type and its bytes, whose first byte is overwritten with the next header).</summary>
    public static byte[] IPv6(string src, string dst, byte proto, byte[] payload, params (byte Type, byte[] Bytes)[] ext)
    {
        var exts = ext.SelectMany(e => e.Bytes).ToArray();
        var p = new byte[40 + exts.Length + payload.Length];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)(exts.Length + payload.Length));
        p[6] = ext.Length > 0 ? ext[0].Type : proto;
        p[7] = 64;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(p, 8);
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(p, 24);
        int at = 40;
        for (int i = 0; i < ext.Length; i++)
        {
            ext[i].Bytes.CopyTo(p, at);
            p[at] = i + 1 < ext.Length ? ext[i + 1].Type : proto;
            at += ext[i].Bytes.Length;
        }
        payload.CopyTo(p, at);
        return p;
    }

    public static byte[] FragHeader(int offsetBytes, bool mf, uint id)
    {
        var f = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(2), (ushort)(offsetBytes | (mf ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(4), id);
        return f;
    }

    public static readonly byte[] Macs = { 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10 };

    public static byte[] Ethernet(ushort type, byte[] payload, int padTo = 0)
    {
        var e = new byte[Math.Max(14 + payload.Length, padTo)];
        Macs.CopyTo(e, 0);
        BinaryPrimitives.WriteUInt16BigEndian(e.AsSpan(12), type);
        payload.CopyTo(e, 14);
        return e;
    }

    /// <summary>An 802.1Q (or other) tag: TPID then TCI; concatenate before the inner EtherType+payload.</summary>
    public static byte[] Tag(ushort vlan, ushort innerType, byte[] payload)
    {
        var t = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(t, vlan);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), innerType);
        payload.CopyTo(t, 4);
        return t;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(x => x).ToArray();
    public static byte[] Bytes(int n, byte fill = 0x61) => Enumerable.Repeat(fill, n).ToArray();
}

using System.Buffers.Binary;
using System.IO.Compression;
using ConnTrack.Engine.Capture;

namespace ConnTrack.Engine.Tests.Capture;

/// <summary>A frame copied out of a reader, so tests can look at it after the next read.</summary>
internal sealed record Frame(byte[] Data, long Timestamp, int OriginalLength, LinkType LinkType, long Offset);

internal static class CaptureTestUtil
{
    /// <summary>Whether a file nobody writes is mapped when asked (under a read lease: Linux only).</summary>
    public static bool LeasesWork => OperatingSystem.IsLinux();

    /// <summary>
    /// Opens <paramref name="path"/> mapped, trying again for up to 5 s while the kernel denies the lease. It does so
    /// while any process has the file open for writing, and a child process another test forks (tcpdump, say) holds
    /// copies of this process's descriptors until it execs, a file being written among them. The reader then reads
    /// through the buffer, as it should; the tests that call this need the mapping.
    /// </summary>
    public static CaptureReader OpenMapped(string path, int mapWindowSize)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var reader = CaptureReader.Open(path, map: true, mapWindowSize: mapWindowSize);
            if (!LeasesWork || ((FileCaptureReader)reader).IsMapped || waited.Elapsed > TimeSpan.FromSeconds(5))
                return reader;
            reader.Dispose();
            Thread.Sleep(20);
        }
    }

    public static CaptureReader OpenBytes(byte[] bytes, string name = "mem.pcap") =>
        CaptureReader.Open(new MemoryStream(bytes, writable: false), name);

    public static List<Frame> ReadAll(CaptureReader reader)
    {
        var list = new List<Frame>();
        while (reader.TryReadNext(out var f))
            list.Add(new Frame(f.Data.ToArray(), f.Timestamp, f.OriginalLength, f.LinkType, f.Offset));
        return list;
    }

    public static List<Frame> ReadAll(byte[] bytes, string name = "mem.pcap")
    {
        using var reader = OpenBytes(bytes, name);
        return ReadAll(reader);
    }

    /// <summary>Reads until the reader throws, returning the frames handed out before and the exception.</summary>
    public static (List<Frame> Frames, CaptureFormatException Error) ReadUntilError(byte[] bytes, string name = "mem.pcap")
    {
        var list = new List<Frame>();
        using var reader = OpenBytes(bytes, name);
        try
        {
            while (reader.TryReadNext(out var f))
                list.Add(new Frame(f.Data.ToArray(), f.Timestamp, f.OriginalLength, f.LinkType, f.Offset));
        }
        catch (CaptureFormatException e)
        {
            return (list, e);
        }
        throw new Xunit.Sdk.XunitException($"expected a CaptureFormatException after {list.Count} frames");
    }

    public static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(bytes);
        return ms.ToArray();
    }

    /// <summary>A packet whose bytes say which one it is: byte i is (seed + i).</summary>
    public static byte[] Payload(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
            b[i] = (byte)(seed + i);
        return b;
    }

    /// <summary>A capture's first timestamp in the synthetic packets (ns since the epoch).</summary>
    public const long T0 = 1_709_210_096_123_456_789L;

    /// <summary>
    /// <paramref name="count"/> packets of 40 to 1,539 bytes, each numbered by its bytes (<see cref="Payload"/>),
    /// a microsecond apart from <see cref="T0"/>: records of many sizes, so they straddle window borders.
    /// </summary>
    public static (byte[] Data, long Ts, int Orig)[] NumberedPackets(int count, int seed) =>
        Enumerable.Range(0, count)
            .Select(i => (Payload(40 + (i * 97 + seed) % 1500, i + seed), T0 + i * 1000L, 40 + (i * 97 + seed) % 1500))
            .ToArray();

    public static byte[] Pcap(LinkType link, bool nanosecond, bool bigEndian, int snapLength,
        params (byte[] Data, long Ts, int Orig)[] packets)
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, link, snapLength, nanosecond, bigEndian, leaveOpen: true))
            foreach (var p in packets)
                w.WritePacket(p.Data, p.Ts, p.Orig);
        return ms.ToArray();
    }

    /// <summary>Ethernet + IPv4 + TCP or UDP frame with the given ports (checksums not filled in).</summary>
    public static byte[] EthernetIpv4(byte protocol, ushort srcPort, ushort dstPort) =>
        [.. new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00 }, .. Ipv4(protocol, srcPort, dstPort)];

    public static byte[] Ipv4(byte protocol, ushort srcPort, ushort dstPort)
    {
        int l4 = protocol == 6 ? 20 : 8;
        var ip = new byte[20 + l4];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        ip[8] = 64;
        ip[9] = protocol;
        ip[12] = 10; ip[13] = 0; ip[14] = 0; ip[15] = 1;
        ip[16] = 10; ip[17] = 0; ip[18] = 0; ip[19] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(20), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(22), dstPort);
        if (protocol == 6)
        {
            ip[32] = 0x50; // data offset 5
            ip[33] = 0x02; // SYN
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(24), 8);
        }
        return ip;
    }
}

/// <summary>Builds pcapng files block by block, in either byte order per section.</summary>
internal sealed class PcapNgBuilder
{
    private readonly MemoryStream _out = new();
    private bool _big;

    public byte[] ToArray() => _out.ToArray();
    public long Position => _out.Position;

    public PcapNgBuilder Section(bool bigEndian)
    {
        _big = bigEndian;
        var body = new byte[16];
        P32(body, 0, 0x1A2B3C4D);
        P16(body, 4, 1);
        P16(body, 6, 0);
        // section length -1 (unknown)
        for (int i = 8; i < 16; i++) body[i] = 0xFF;
        return Block(0x0A0D0D0A, body);
    }

    /// <summary>An interface description; tsresol is the raw if_tsresol byte (null: none), tsoffset in seconds.</summary>
    public PcapNgBuilder Interface(ushort linkType, uint snapLength, byte? tsresol = null, long? tsoffset = null)
    {
        var body = new List<byte>();
        var fixedPart = new byte[8];
        P16(fixedPart, 0, linkType);
        P32(fixedPart, 4, snapLength);
        body.AddRange(fixedPart);
        // an option we do not care about first (if_name "eth0"), to prove options are walked
        body.AddRange(Option(2, "eth0"u8.ToArray()));
        if (tsresol is byte r)
            body.AddRange(Option(9, [r]));
        if (tsoffset is long o)
        {
            var v = new byte[8];
            if (_big) BinaryPrimitives.WriteInt64BigEndian(v, o); else BinaryPrimitives.WriteInt64LittleEndian(v, o);
            body.AddRange(Option(14, v));
        }
        body.AddRange(Option(0, []));
        return Block(1, body.ToArray());
    }

    public PcapNgBuilder Enhanced(uint iface, ulong units, byte[] data, uint? capLength = null, uint? origLength = null)
    {
        var body = new byte[20 + Pad(data.Length)];
        P32(body, 0, iface);
        P32(body, 4, (uint)(units >> 32));
        P32(body, 8, (uint)units);
        P32(body, 12, capLength ?? (uint)data.Length);
        P32(body, 16, origLength ?? (uint)data.Length);
        data.CopyTo(body, 20);
        return Block(6, body);
    }

    public PcapNgBuilder Simple(byte[] data, uint origLength)
    {
        var body = new byte[4 + Pad(data.Length)];
        P32(body, 0, origLength);
        data.CopyTo(body, 4);
        return Block(3, body);
    }

    public PcapNgBuilder ObsoletePacket(ushort iface, ulong units, byte[] data, uint? origLength = null)
    {
        var body = new byte[20 + Pad(data.Length)];
        P16(body, 0, iface);
        P16(body, 2, 0);
        P32(body, 4, (uint)(units >> 32));
        P32(body, 8, (uint)units);
        P32(body, 12, (uint)data.Length);
        P32(body, 16, origLength ?? (uint)data.Length);
        data.CopyTo(body, 20);
        return Block(2, body);
    }

    public PcapNgBuilder Block(uint type, byte[] body)
    {
        int total = 12 + Pad(body.Length);
        var b = new byte[total];
        P32(b, 0, type);
        P32(b, 4, (uint)total);
        body.CopyTo(b, 8);
        P32(b, total - 4, (uint)total);
        _out.Write(b);
        return this;
    }

    public PcapNgBuilder Raw(byte[] bytes)
    {
        _out.Write(bytes);
        return this;
    }

    private byte[] Option(ushort code, byte[] value)
    {
        var o = new byte[4 + Pad(value.Length)];
        P16(o, 0, code);
        P16(o, 2, (ushort)value.Length);
        value.CopyTo(o, 4);
        return o;
    }

    private static int Pad(int n) => (n + 3) & ~3;

    private void P16(byte[] b, int at, ushort v)
    {
        if (_big) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), v);
    }

    private void P32(byte[] b, int at, uint v)
    {
        if (_big) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    }
}

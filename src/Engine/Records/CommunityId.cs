using System.Buffers.Binary;
using System.Security.Cryptography;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Records;

/// <summary>
/// The Community ID flow hash, version 1 ("1:" + base64 of a SHA-1 over seed, ordered endpoints, protocol and
/// ports), as Zeek's community-id-logging policy writes it. Computed on demand from a record, so the tracker
/// pays nothing for it. Direction does not matter: both endpoint orders give the same id.
/// </summary>
public static class CommunityId
{
    public static string Compute(ConnRecord r, ushort seed = 0)
    {
        var srcAddr = r.OrigH;
        var dstAddr = r.RespH;
        ushort srcPort = r.OrigP, dstPort = r.RespP;
        bool v4 = srcAddr.IsIPv4 && dstAddr.IsIPv4;

        // Order the endpoints: lower address first, the port deciding a tie.
        if (Compare(srcAddr, dstAddr) > 0 || (srcAddr == dstAddr && srcPort > dstPort))
        {
            (srcAddr, dstAddr) = (dstAddr, srcAddr);
            (srcPort, dstPort) = (dstPort, srcPort);
        }

        Span<byte> buf = stackalloc byte[2 + 16 + 16 + 2 + 4];
        int n = 0;
        BinaryPrimitives.WriteUInt16BigEndian(buf, seed); n += 2;
        n += WriteAddr(buf[n..], srcAddr, v4);
        n += WriteAddr(buf[n..], dstAddr, v4);
        buf[n++] = (byte)r.IpProto;
        buf[n++] = 0;
        bool hasPorts = r.IpProto is 6 or 17 or 1 or 58 or 132;
        if (hasPorts)
        {
            BinaryPrimitives.WriteUInt16BigEndian(buf[n..], srcPort); n += 2;
            BinaryPrimitives.WriteUInt16BigEndian(buf[n..], dstPort); n += 2;
        }
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(buf[..n], hash);
        return "1:" + Convert.ToBase64String(hash);
    }

    private static int Compare(IPAddr128 a, IPAddr128 b) => a.CompareTo(b);

    private static int WriteAddr(Span<byte> dest, IPAddr128 addr, bool v4)
    {
        if (v4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(dest, addr.IPv4Value);
            return 4;
        }
        addr.WriteBytes(dest);
        return 16;
    }
}

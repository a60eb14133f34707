using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>Collects every record the tracker hands out, in order.</summary>
internal sealed class ListSink : IConnSink
{
    public List<ConnRecord> Records { get; } = new();
    public void Write(ConnRecord record) => Records.Add(record);
}

/// <summary>
/// Hand-built <see cref="PacketSummary"/> values on a synthetic clock (milliseconds after <see cref="T0"/>),
/// and a tracker wired to a <see cref="ListSink"/>.
/// </summary>
internal static class Pkt
{
    /// <summary>The clock's origin: 2023-11-14T22:13:20Z in nanoseconds.</summary>
    public const long T0 = 1_700_000_000L * 1_000_000_000L;

    public const long NsPerMs = 1_000_000L;

    public static long At(long ms) => T0 + ms * NsPerMs;

    public const TcpFlags Syn = TcpFlags.Syn;
    public const TcpFlags SynAck = TcpFlags.Syn | TcpFlags.Ack;
    public const TcpFlags Ack = TcpFlags.Ack;
    public const TcpFlags PshAck = TcpFlags.Psh | TcpFlags.Ack;
    public const TcpFlags FinAck = TcpFlags.Fin | TcpFlags.Ack;
    public const TcpFlags Rst = TcpFlags.Rst;
    public const TcpFlags RstAck = TcpFlags.Rst | TcpFlags.Ack;

    public static PacketSummary Tcp(long ms, string src, ushort srcPort, string dst, ushort dstPort, TcpFlags flags,
                                    uint seq, uint ack, int len = 0, ushort window = 65535,
                                    ChecksumStatus checksum = ChecksumStatus.Good) => new()
    {
        Timestamp = At(ms),
        Src = IPAddr128.Parse(src),
        Dst = IPAddr128.Parse(dst),
        SrcPort = srcPort,
        DstPort = dstPort,
        Protocol = 6,
        Flags = flags,
        Seq = seq,
        Ack = ack,
        Window = window,
        WindowScale = -1,
        PayloadLength = len,
        CapturedPayloadLength = len,
        TransportHeaderLength = 20,
        IpLength = 20 + 20 + len,
        Checksum = checksum,
    };

    public static PacketSummary Udp(long ms, string src, ushort srcPort, string dst, ushort dstPort, int len,
                                    ChecksumStatus checksum = ChecksumStatus.Good) => new()
    {
        Timestamp = At(ms),
        Src = IPAddr128.Parse(src),
        Dst = IPAddr128.Parse(dst),
        SrcPort = srcPort,
        DstPort = dstPort,
        Protocol = 17,
        PayloadLength = len,
        CapturedPayloadLength = len,
        TransportHeaderLength = 8,
        UdpLength = (ushort)(8 + len),
        IpLength = 20 + 8 + len,
        Checksum = checksum,
    };

    public static PacketSummary Icmp(long ms, string src, string dst, byte type, byte code, int len) => new()
    {
        Timestamp = At(ms),
        Src = IPAddr128.Parse(src),
        Dst = IPAddr128.Parse(dst),
        SrcPort = type,
        DstPort = code,
        Protocol = 1,
        PayloadLength = len,
        CapturedPayloadLength = len,
        TransportHeaderLength = 8,
        IpLength = 20 + 8 + len,
        Checksum = ChecksumStatus.Good,
    };

    public static PacketSummary OtherIp(long ms, string src, string dst, byte protocol, int len) => new()
    {
        Timestamp = At(ms),
        Src = IPAddr128.Parse(src),
        Dst = IPAddr128.Parse(dst),
        Protocol = protocol,
        PayloadLength = len,
        CapturedPayloadLength = len,
        IpLength = 20 + len,
    };

    public static ConnTracker NewTracker(out ListSink sink, ConnTrackOptions? options = null)
    {
        sink = new ListSink();
        return new ConnTracker(options ?? new ConnTrackOptions(), sink);
    }

    /// <summary>Feeds every packet, flushes, and returns the records in the order the tracker wrote them.</summary>
    public static List<ConnRecord> Run(ConnTrackOptions? options, params PacketSummary[] packets)
    {
        var tracker = NewTracker(out var sink, options);
        foreach (var p in packets)
            tracker.Process(p);
        tracker.FlushAll();
        return sink.Records;
    }

    public static List<ConnRecord> Run(params PacketSummary[] packets) => Run(null, packets);

    public static ConnRecord Single(params PacketSummary[] packets) => Single(null, packets);

    public static ConnRecord Single(ConnTrackOptions? options, params PacketSummary[] packets)
    {
        var records = Run(options, packets);
        Assert.Single(records);
        return records[0];
    }
}

/// <summary>
/// A client 10.0.0.1:40000 talking to a server 10.0.0.2 (port chosen per test) with client ISN 1000 and
/// server ISN 5000, so tests read as the exchange they describe.
/// </summary>
internal sealed class TcpScript
{
    public const string Client = "10.0.0.1";
    public const string Server = "10.0.0.2";
    public const ushort ClientPort = 40000;
    public const uint ClientIsn = 1000, ServerIsn = 5000;

    private readonly ushort _serverPort;
    public readonly List<PacketSummary> Packets = new();

    public TcpScript(ushort serverPort = 8000) => _serverPort = serverPort;

    public TcpScript C(long ms, TcpFlags flags, uint seq, uint ack, int len = 0, ushort window = 65535,
                       ChecksumStatus checksum = ChecksumStatus.Good)
    {
        Packets.Add(Pkt.Tcp(ms, Client, ClientPort, Server, _serverPort, flags, seq, ack, len, window, checksum));
        return this;
    }

    public TcpScript S(long ms, TcpFlags flags, uint seq, uint ack, int len = 0, ushort window = 65535,
                       ChecksumStatus checksum = ChecksumStatus.Good)
    {
        Packets.Add(Pkt.Tcp(ms, Server, _serverPort, Client, ClientPort, flags, seq, ack, len, window, checksum));
        return this;
    }

    /// <summary>SYN at 0 ms, SYN-ACK at 100 ms, ACK at 200 ms: both sides established, history "ShA".</summary>
    public TcpScript Handshake() =>
        C(0, Pkt.Syn, ClientIsn, 0)
        .S(100, Pkt.SynAck, ServerIsn, ClientIsn + 1)
        .C(200, Pkt.Ack, ClientIsn + 1, ServerIsn + 1);

    public PacketSummary[] ToArray() => Packets.ToArray();
}

using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using Xunit;
using static ConnTrack.Engine.Tests.Tracking.Pkt;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// Each conn_state code reached through real packets (the classifier alone is covered by
/// <see cref="ConnStateClassifierTests"/>), plus the connection-level fields around them.
/// </summary>
public class TrackerEndToEndTests
{
    private const uint C0 = TcpScript.ClientIsn, S0 = TcpScript.ServerIsn;

    private static PacketSummary FromServer80(long ms, TcpFlags flags, uint seq, uint ack) =>
        Tcp(ms, "10.0.0.2", 80, "10.0.0.1", 40000, flags, seq, ack);

    public static TheoryData<string, string, string> Scenarios => new()
    {
        { "S0", "S", "lone SYN" },
        { "SH", "SF", "SYN then FIN from the originator, no answer" },
        { "SHR", "^hf", "SYN-ACK (flipped) then FIN from the responder, no SYN seen" },
        { "RSTRH", "^hr", "SYN-ACK (flipped) then RST from the responder, no SYN seen" },
        { "REJ", "Sr", "SYN answered by RST" },
        { "RSTOS0", "SR", "SYN then RST from the originator" },
        { "S1", "ShA", "handshake only" },
        { "S2", "ShAF", "handshake, originator FIN" },
        { "S3", "ShAf", "handshake, responder FIN" },
        { "RSTO", "ShAR", "handshake, originator RST" },
        { "RSTR", "ShAr", "handshake, responder RST" },
        { "SF", "ShAFf", "handshake, FIN both ways" },
        { "OTH", "Da", "midstream data and ack" },
    };

    private static PacketSummary[] Build(string state) => state switch
    {
        "S0" => [Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0)],
        "SH" => [Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
                 Tcp(10, "10.0.0.1", 40000, "10.0.0.2", 8000, FinAck, C0 + 1, 0)],
        "SHR" => [FromServer80(0, SynAck, S0, C0 + 1), FromServer80(10, FinAck, S0 + 1, C0 + 1)],
        "RSTRH" => [FromServer80(0, SynAck, S0, C0 + 1), FromServer80(10, Rst, S0 + 1, 0)],
        "REJ" => [Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
                  Tcp(10, "10.0.0.2", 8000, "10.0.0.1", 40000, RstAck, 0, C0 + 1)],
        "RSTOS0" => [Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
                     Tcp(10, "10.0.0.1", 40000, "10.0.0.2", 8000, Rst, C0 + 1, 0)],
        "S1" => new TcpScript().Handshake().ToArray(),
        "S2" => new TcpScript().Handshake().C(300, FinAck, C0 + 1, S0 + 1).ToArray(),
        "S3" => new TcpScript().Handshake().S(300, FinAck, S0 + 1, C0 + 1).ToArray(),
        "RSTO" => new TcpScript().Handshake().C(300, Rst, C0 + 1, 0).ToArray(),
        "RSTR" => new TcpScript().Handshake().S(300, Rst, S0 + 1, 0).ToArray(),
        "SF" => new TcpScript().Handshake().C(300, FinAck, C0 + 1, S0 + 1).S(400, FinAck, S0 + 1, C0 + 2).ToArray(),
        "OTH" => [Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 50000, PshAck, 1000, 2000, len: 10),
                  Tcp(10, "10.0.0.2", 50000, "10.0.0.1", 40000, Ack, 2000, 1010)],
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void EveryTcpConnStateFromPackets(string state, string history, string description)
    {
        var r = Single(Build(state));
        Assert.True(state == r.ConnState, $"{description}: conn_state {r.ConnState}, expected {state}");
        Assert.Equal(history, r.History);
        Assert.Equal(0UL, r.MissedBytes);
    }

    [Fact]
    public void FlippedHalfOpenKeepsTheClientAsOriginator()
    {
        var r = Single(Build("SHR"));
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal((ushort)40000, r.OrigP);
        Assert.Equal((ushort)80, r.RespP);
        Assert.Equal(0UL, r.OrigPkts);
        Assert.Equal(2UL, r.RespPkts);
    }

    [Fact]
    public void IcmpV6EchoPairsRequestAndReply()
    {
        var req = Icmp(0, "fe80::1", "fe80::2", 128, 0, 32);
        req.Protocol = 58;
        req.Src = IPAddr128.Parse("2001:db8::1");
        req.Dst = IPAddr128.Parse("2001:db8::2");
        req.IsIPv6 = true;
        req.IpLength = 40 + 8 + 32;
        var rep = req;
        rep.Timestamp = At(5);
        rep.Src = req.Dst;
        rep.Dst = req.Src;
        rep.SrcPort = 129;

        var r = Single(req, rep);
        Assert.Equal(58, r.IpProto);
        Assert.Equal(TransportProto.Icmp, r.Proto);
        Assert.Equal(IPAddr128.Parse("2001:db8::1"), r.OrigH);
        Assert.Equal((ushort)128, r.OrigP);
        Assert.Equal((ushort)129, r.RespP);
        Assert.Equal(1UL, r.OrigPkts);
        Assert.Equal(1UL, r.RespPkts);
        Assert.Equal(80UL, r.RespIpBytes);
        Assert.Equal(32UL, r.RespBytes);
    }

    [Fact]
    public void IcmpReplySeenFirstIsOriginatedByTheReplier()
    {
        // No flip for ICMP: the first packet's sender is the originator; the reply type is its port.
        var r = Single(Icmp(0, "10.0.0.2", "10.0.0.1", 0, 0, 8), Icmp(1, "10.0.0.1", "10.0.0.2", 8, 0, 8));
        Assert.Equal(IPAddr128.Parse("10.0.0.2"), r.OrigH);
        Assert.Equal((ushort)0, r.OrigP);
        Assert.Equal((ushort)8, r.RespP);
        Assert.Equal(1UL, r.RespPkts);
    }

    [Fact]
    public void Ipv6TcpConnection()
    {
        var syn = Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 443, Syn, C0, 0);
        syn.Src = IPAddr128.Parse("2001:db8::10");
        syn.Dst = IPAddr128.Parse("2001:db8::20");
        syn.IsIPv6 = true;
        syn.IpLength = 60;
        var synAck = Tcp(10, "10.0.0.2", 443, "10.0.0.1", 40000, SynAck, S0, C0 + 1);
        synAck.Src = syn.Dst;
        synAck.Dst = syn.Src;
        synAck.IsIPv6 = true;
        synAck.IpLength = 60;
        var r = Single(syn, synAck);
        Assert.Equal("Sh", r.History);
        Assert.Equal("S1", r.ConnState);
        Assert.Equal(IPAddr128.Parse("2001:db8::10"), r.OrigH);
        Assert.Equal(60UL, r.OrigIpBytes);
        Assert.True(r.LocalOrig); // 2001:db8::/32 is in Zeek's private address space
    }

    [Fact]
    public void LocalOrigAndLocalRespFollowTheLocalNetworks()
    {
        var r = Single(Udp(0, "10.0.0.1", 40000, "8.8.8.8", 9999, 10));
        Assert.True(r.LocalOrig);
        Assert.False(r.LocalResp);

        var none = Single(new ConnTrackOptions { LocalNets = [] }, Udp(0, "10.0.0.1", 40000, "8.8.8.8", 9999, 10));
        Assert.Null(none.LocalOrig); // no local_nets: the fields are unset
        Assert.Null(none.LocalResp);
    }

    [Fact]
    public void NewConnectionsPastMaxConnectionsAreDroppedAndCounted()
    {
        var tracker = NewTracker(out var sink, new ConnTrackOptions { MaxConnections = 2 });
        for (int i = 0; i < 4; i++)
            tracker.Process(Udp(i, "10.0.0.1", (ushort)(40000 + i), "10.0.0.2", 9999, 10));
        // Packets of a tracked connection still count.
        tracker.Process(Udp(10, "10.0.0.2", 9999, "10.0.0.1", 40000, 10));
        Assert.Equal(2, tracker.OpenConnections);
        Assert.Equal(2, tracker.DroppedForCapacity);
        tracker.FlushAll();
        Assert.Equal(new ushort[] { 40000, 40001 }, sink.Records.Select(r => r.OrigP));
        Assert.Equal("SF", sink.Records[0].ConnState);
    }

    [Fact]
    public void UidsAreDeterministicForASeedAndDifferAcrossSeeds()
    {
        var packets = new[] { Udp(0, "10.0.0.1", 40000, "10.0.0.2", 9999, 10), Udp(1, "10.0.0.1", 40001, "10.0.0.2", 9999, 10) };
        var a = Run(new ConnTrackOptions { UidSeed = 1 }, packets).Select(r => r.Uid).ToArray();
        var b = Run(new ConnTrackOptions { UidSeed = 1 }, packets).Select(r => r.Uid).ToArray();
        var c = Run(new ConnTrackOptions { UidSeed = 2 }, packets).Select(r => r.Uid).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a[0], a[1]);
        Assert.All(a, uid => Assert.StartsWith("C", uid));
    }

    [Fact]
    public void PayloadCutBySnapLengthBecomesAContentGapOnceAcked()
    {
        // Zeek hands data to the reassembler only when the capture holds all of it (remaining >= len), so
        // bytes the snap length cut are a hole; the ack turns it into a gap. Sizes still come from sequence numbers.
        var s = new TcpScript().Handshake();
        var data = Tcp(300, TcpScript.Client, TcpScript.ClientPort, TcpScript.Server, 8000, PshAck, C0 + 1, S0 + 1, len: 1000);
        data.CapturedPayloadLength = 100;
        s.Packets.Add(data);
        s.S(310, Ack, S0 + 1, C0 + 1001);
        var r = Single(s.ToArray());
        Assert.Equal("ShADaG", r.History);
        Assert.Equal(1000UL, r.MissedBytes);
        Assert.Equal(1000UL, r.OrigBytes);
        Assert.Equal(1040UL + 80, r.OrigIpBytes);
    }
}

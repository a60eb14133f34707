using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using Xunit;
using static ConnTrack.Engine.Tests.Tracking.Pkt;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// Zeek's history letters and the fields around them, through the real tracker: hand-built packets in,
/// one conn.log record out.
/// </summary>
public class HistoryTests
{
    private const uint C0 = TcpScript.ClientIsn, S0 = TcpScript.ServerIsn;

    /// <summary>Handshake, 100 bytes up, 200 bytes down, FIN both ways, last ACK.</summary>
    private static TcpScript FullExchange(ushort serverPort = 8000) =>
        new TcpScript(serverPort).Handshake()
            .C(300, PshAck, C0 + 1, S0 + 1, len: 100)
            .S(400, Ack, S0 + 1, C0 + 101)
            .S(500, PshAck, S0 + 1, C0 + 101, len: 200)
            .C(600, Ack, C0 + 101, S0 + 201)
            .C(700, FinAck, C0 + 101, S0 + 201)
            .S(800, FinAck, S0 + 201, C0 + 102)
            .C(900, Ack, C0 + 102, S0 + 202);

    [Fact]
    public void ConnectionsWithTheSameHistoryShareOneString()
    {
        var packets = FullExchange(8000).Packets.Concat(FullExchange(8001).Packets).OrderBy(p => p.Timestamp).ToArray();
        var records = Run(packets);
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("ShADadFf", r.History));
        Assert.Same(records[0].History, records[1].History);
    }

    [Fact]
    public void OnlyAHistoryThatFitsInlineHasAKeyToShareItsString()
    {
        var conn = new ConnTrack.Engine.Tracking.Connection();
        Assert.Equal(0UL, conn.InlineHistoryKey);
        foreach (var letter in "ShADadFf")
            conn.AddHistory(letter);
        Assert.NotNull(conn.InlineHistoryKey);
        var eight = conn.InlineHistoryKey;
        conn.AddHistory('T'); // a ninth letter goes to the cold part: the inline bytes alone no longer say the history
        Assert.Null(conn.InlineHistoryKey);
        Assert.Equal("ShADadFfT", conn.History);
        Assert.NotEqual(0UL, eight);
    }

    [Fact]
    public void FullExchangeGivesShADadFfWithExactCounts()
    {
        var r = Single(FullExchange().ToArray());
        Assert.Equal("ShADadFf", r.History);
        Assert.Equal("SF", r.ConnState);
        Assert.Equal(TransportProto.Tcp, r.Proto);
        Assert.Equal(IPAddr128.Parse(TcpScript.Client), r.OrigH);
        Assert.Equal(TcpScript.ClientPort, r.OrigP);
        Assert.Equal(IPAddr128.Parse(TcpScript.Server), r.RespH);
        Assert.Equal((ushort)8000, r.RespP);
        Assert.Equal(At(0), r.Ts);
        Assert.Equal(100UL, r.OrigBytes);
        Assert.Equal(200UL, r.RespBytes);
        Assert.Equal(6UL, r.OrigPkts);
        Assert.Equal(6UL * 40 + 100, r.OrigIpBytes);
        Assert.Equal(4UL, r.RespPkts);
        Assert.Equal(4UL * 40 + 200, r.RespIpBytes);
        // The final ACK after both FINs does not extend the duration (main.zeek: "will not include the final ACK").
        Assert.Equal(800 * NsPerMs, r.Duration);
        Assert.Equal(0UL, r.MissedBytes);
        Assert.Equal(6, r.IpProto);
        Assert.True(r.LocalOrig);
        Assert.True(r.LocalResp);
    }

    [Fact]
    public void LettersAreUpperCaseForTheOriginatorAndLowerForTheResponder()
    {
        // The same exchange with the server doing the data: the roles stay, so the letters' case follows the direction.
        var r = Single(new TcpScript().Handshake()
            .S(300, PshAck, S0 + 1, C0 + 1, len: 10)
            .C(400, Ack, C0 + 1, S0 + 11)
            .S(500, FinAck, S0 + 11, C0 + 1)
            .C(600, FinAck, C0 + 1, S0 + 12)
            .S(700, Ack, S0 + 12, C0 + 2).ToArray());
        Assert.Equal("ShAdfFa", r.History); // the server's last ACK is its first pure ack: 'a' even after both FINs
        Assert.Equal("SF", r.ConnState);
        Assert.Equal(0UL, r.OrigBytes);
        Assert.Equal(10UL, r.RespBytes);
    }

    [Fact]
    public void AckAndDataLettersAppearOncePerDirection()
    {
        var s = new TcpScript().Handshake();
        for (int i = 0; i < 5; i++)
        {
            s.C(300 + i * 20, PshAck, C0 + 1 + (uint)(i * 10), S0 + 1, len: 10);
            s.S(310 + i * 20, Ack, S0 + 1, C0 + 11 + (uint)(i * 10));
        }
        var r = Single(s.ToArray());
        Assert.Equal("ShADa", r.History);
        Assert.Equal("S1", r.ConnState);
        Assert.Equal(50UL, r.OrigBytes);
        Assert.Equal(0UL, r.RespBytes);
    }

    [Fact]
    public void RepeatedRstAddsALetterOnlyWhenTheSequenceNumberDiffers()
    {
        var r = Single(new TcpScript().Handshake()
            .C(300, Rst, C0 + 1, 0)
            .C(310, Rst, C0 + 1, 0)      // same seq: no letter
            .C(320, Rst, C0 + 501, 0)    // different seq: another R
            .C(330, Rst, C0 + 501, 0).ToArray());
        Assert.Equal("ShARR", r.History);
        Assert.Equal("RSTO", r.ConnState);
    }

    [Fact]
    public void RepeatedFinAddsALetterOnlyWhenTheSequenceNumberDiffers()
    {
        var r = Single(new TcpScript().Handshake()
            .C(300, FinAck, C0 + 1, S0 + 1)
            .C(310, FinAck, C0 + 1, S0 + 1)          // retransmitted FIN: same seq
            .C(320, FinAck, C0 + 1, S0 + 1).ToArray());
        Assert.Equal("ShAF", r.History);

        var moved = Single(new TcpScript().Handshake()
            .C(300, FinAck, C0 + 1, S0 + 1)
            .C(310, FinAck, C0 + 1, S0 + 1, len: 5).ToArray()); // FIN after 5 more bytes: its seq differs
        Assert.Equal("ShAFF", moved.History); // a FIN packet gets no D even with data: one flag letter per packet
    }

    [Fact]
    public void RetransmittedSynAddsNoLetter()
    {
        var r = Single(
            Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
            Tcp(1000, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
            Tcp(3000, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0));
        Assert.Equal("S", r.History);
        Assert.Equal("S0", r.ConnState);
        Assert.Equal(3UL, r.OrigPkts);
        Assert.Equal(3000 * NsPerMs, r.Duration);
        Assert.Equal(0UL, r.OrigBytes);
    }

    [Fact]
    public void RepeatedSynAckAddsALetterOnlyWhenTheRelativeSequenceNumberDiffers()
    {
        // A SYN normally re-bases its sender's sequence space (relative seq 0 again), so a SYN-ACK with a new
        // ISN repeats nothing. After a RST the space is kept: there a SYN-ACK at another seq adds a second 'h'.
        var rebased = Single(new TcpScript().Handshake()
            .S(300, SynAck, S0 + 5000, C0 + 1).ToArray());
        Assert.Equal("ShA", rebased.History);

        var afterRst = Single(new TcpScript().Handshake()
            .S(300, Rst, S0 + 1, 0)
            .S(310, SynAck, S0, C0 + 1)          // relative seq 0, as the first SYN-ACK: no letter
            .S(320, SynAck, S0 + 5000, C0 + 1)   // relative seq 5000: a second h
            .ToArray());
        Assert.Equal("ShArh", afterRst.History);
        Assert.Equal("RSTR", afterRst.ConnState);
    }

    [Theory]
    [InlineData(1, "ShADT")]
    [InlineData(9, "ShADT")]
    [InlineData(10, "ShADTT")]
    [InlineData(99, "ShADTT")]
    [InlineData(100, "ShADTTT")]
    public void RetransmissionsAreLogarithmic(int retransmissions, string expected)
    {
        var s = new TcpScript().Handshake().C(300, PshAck, C0 + 1, S0 + 1, len: 100);
        for (int i = 0; i < retransmissions; i++)
            s.C(301 + i, PshAck, C0 + 1, S0 + 1, len: 100);
        var r = Single(s.ToArray());
        Assert.Equal(expected, r.History);
        Assert.Equal(100UL, r.OrigBytes); // retransmitted bytes are counted once (sequence space)
        Assert.Equal((ulong)(3 + retransmissions), r.OrigPkts);
    }

    [Theory]
    [InlineData(1, "ShAW")]
    [InlineData(10, "ShAWW")]
    [InlineData(100, "ShAWWW")]
    public void ZeroWindowsAreLogarithmic(int zeroWindows, string expected)
    {
        var s = new TcpScript().Handshake();
        for (int i = 0; i < zeroWindows; i++)
            s.C(300 + i, Ack, C0 + 1, S0 + 1, window: 0);
        Assert.Equal(expected, Single(s.ToArray()).History);
    }

    [Fact]
    public void ZeroWindowInARstIsNotCounted()
    {
        var r = Single(new TcpScript().Handshake().C(300, RstAck, C0 + 1, S0 + 1, window: 0).ToArray());
        Assert.Equal("ShAR", r.History);
    }

    [Theory]
    [InlineData(1, "ShAC")]
    [InlineData(9, "ShAC")]
    [InlineData(10, "ShACC")]
    [InlineData(100, "ShACCC")]
    public void BadTcpChecksumsAreLogarithmicAndTheirPacketsIgnored(int bad, string expected)
    {
        var s = new TcpScript().Handshake();
        for (int i = 0; i < bad; i++)
            s.C(300 + i, PshAck, C0 + 1, S0 + 1, len: 50, checksum: ChecksumStatus.Bad);
        var r = Single(s.ToArray());
        Assert.Equal(expected, r.History);
        Assert.Equal(2UL, r.OrigPkts);     // bad-checksum packets are not counted
        Assert.Equal(0UL, r.OrigBytes);    // nor is their data
        Assert.Equal(200 * NsPerMs, r.Duration); // nor do they move last_time
    }

    [Fact]
    public void IgnoreChecksumsProcessesBadChecksumPacketsNormally()
    {
        var s = new TcpScript().Handshake().C(300, PshAck, C0 + 1, S0 + 1, len: 50, checksum: ChecksumStatus.Bad);
        var r = Single(new ConnTrackOptions { IgnoreChecksums = true }, s.ToArray());
        Assert.Equal("ShAD", r.History);
        Assert.Equal(3UL, r.OrigPkts);
        Assert.Equal(50UL, r.OrigBytes);
    }

    [Fact]
    public void BadUdpChecksumsGiveLogarithmicCLettersAndAreNotCounted()
    {
        var packets = new List<PacketSummary> { Udp(0, "10.0.0.1", 40000, "10.0.0.2", 9999, 20) };
        for (int i = 1; i <= 10; i++)
            packets.Add(Udp(i, "10.0.0.2", 9999, "10.0.0.1", 40000, 30, ChecksumStatus.Bad));
        var r = Single(packets.ToArray());
        Assert.Equal("Dcc", r.History);
        Assert.Equal("S0", r.ConnState);
        Assert.Equal(0UL, r.RespPkts);
        Assert.Null(r.Duration);
    }

    [Fact]
    public void AckedHoleIsAGapWithMissedBytes()
    {
        var r = Single(new TcpScript().Handshake()
            .C(300, PshAck, C0 + 1, S0 + 1, len: 100)
            .C(310, PshAck, C0 + 201, S0 + 1, len: 100)   // bytes 101..200 never seen
            .S(320, Ack, S0 + 1, C0 + 301).ToArray());
        Assert.Equal("ShADaG", r.History);
        Assert.Equal(100UL, r.MissedBytes);
        Assert.Equal(300UL, r.OrigBytes); // sizes come from sequence numbers, the hole included
        Assert.Equal("S1", r.ConnState);
    }

    [Theory]
    [InlineData(1, "ShADaG")]
    [InlineData(9, "ShADaG")]
    [InlineData(10, "ShADaGG")]
    public void GapsAreLogarithmic(int holes, string expected)
    {
        var s = new TcpScript().Handshake();
        // Segments of 100 bytes with a 100-byte hole after each one but the last.
        for (int i = 0; i <= holes; i++)
            s.C(300 + i, PshAck, C0 + 1 + (uint)(i * 200), S0 + 1, len: 100);
        uint end = C0 + 1 + (uint)(holes * 200 + 100);
        s.S(400, Ack, S0 + 1, end);
        var r = Single(s.ToArray());
        Assert.Equal(expected, r.History);
        Assert.Equal((ulong)(holes * 100), r.MissedBytes);
    }

    [Fact]
    public void DataThatWasSeenLeavesNoGap()
    {
        var r = Single(new TcpScript().Handshake()
            .C(300, PshAck, C0 + 101, S0 + 1, len: 100)   // out of order...
            .C(310, PshAck, C0 + 1, S0 + 1, len: 100)     // ...the hole is filled before the ack
            .S(320, Ack, S0 + 1, C0 + 201).ToArray());
        // Zeek's update_last_seq calls any payload at or below the highest seq seen a retransmission: 'T'.
        Assert.Equal("ShADTa", r.History);
        Assert.Equal(0UL, r.MissedBytes);
        Assert.Equal(200UL, r.OrigBytes);
    }

    [Fact]
    public void FinPlusRstIsAnInconsistentPacketOnce()
    {
        var r = Single(new TcpScript().Handshake()
            .C(300, TcpFlags.Fin | TcpFlags.Rst | TcpFlags.Ack, C0 + 1, S0 + 1)
            .C(310, TcpFlags.Fin | TcpFlags.Rst | TcpFlags.Ack, C0 + 1, S0 + 1).ToArray());
        Assert.Equal("ShAI", r.History);
        Assert.Equal("RSTO", r.ConnState);
    }

    [Fact]
    public void SynPlusFinIsAMultiFlagPacket()
    {
        var r = Single(Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, TcpFlags.Syn | TcpFlags.Fin, C0, 0));
        Assert.Equal("Q", r.History);
        Assert.Equal("SH", r.ConnState); // the SYN made it SYN_SENT, the FIN closed it; the responder never spoke
    }

    [Fact]
    public void SynAfterTheOriginatorClosedIsAReuse()
    {
        // Zeek's IsReuse: once either side closed, any SYN starts a new connection, even with the same ISN.
        var records = Run(
            Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, TcpFlags.Syn | TcpFlags.Fin, C0, 0),
            Tcp(10, "10.0.0.1", 40000, "10.0.0.2", 8000, TcpFlags.Syn | TcpFlags.Fin, C0, 0));
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("Q", r.History));
        Assert.NotEqual(records[0].Uid, records[1].Uid);
        Assert.Equal(At(10), records[1].Ts);
    }

    [Fact]
    public void RejectedAttemptIsRejWithHistorySr()
    {
        var r = Single(
            Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
            Tcp(1, "10.0.0.2", 8000, "10.0.0.1", 40000, RstAck, 0, C0 + 1));
        Assert.Equal("Sr", r.History);
        Assert.Equal("REJ", r.ConnState);
        Assert.Equal(1 * NsPerMs, r.Duration);
        Assert.Equal(0UL, r.OrigBytes);
        Assert.Equal(0UL, r.RespBytes);
        Assert.Equal(1UL, r.OrigPkts);
        Assert.Equal(1UL, r.RespPkts);
    }

    [Fact]
    public void LoneSynIsS0WithoutDurationOrBytes()
    {
        var r = Single(Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0));
        Assert.Equal("S", r.History);
        Assert.Equal("S0", r.ConnState);
        Assert.Null(r.Duration);    // Zeek sets duration and sizes only when duration > 0
        Assert.Null(r.OrigBytes);
        Assert.Null(r.RespBytes);
        Assert.Equal(1UL, r.OrigPkts);
        Assert.Equal(40UL, r.OrigIpBytes);
        Assert.Equal(0UL, r.RespPkts);
        Assert.Equal(0UL, r.RespIpBytes);
    }

    [Fact]
    public void SynThenOriginatorRstIsRstos0()
    {
        var r = Single(
            Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 8000, Syn, C0, 0),
            Tcp(50, "10.0.0.1", 40000, "10.0.0.2", 8000, Rst, C0 + 1, 0));
        Assert.Equal("SR", r.History);
        Assert.Equal("RSTOS0", r.ConnState);
        Assert.Equal(0UL, r.OrigBytes);
    }

    [Fact]
    public void MidstreamDataFirstIsPartialOth()
    {
        var r = Single(
            Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 50000, PshAck, 1000, 2000, len: 100),
            Tcp(10, "10.0.0.2", 50000, "10.0.0.1", 40000, Ack, 2000, 1100));
        Assert.Equal("Da", r.History);
        Assert.Equal("OTH", r.ConnState);
        Assert.Equal(100UL, r.OrigBytes);
        Assert.Equal(0UL, r.RespBytes);
        Assert.Equal((ushort)40000, r.OrigP); // no likely server port: the first sender stays the originator
    }

    [Fact]
    public void MidstreamAckFirstIsPartialOth()
    {
        var r = Single(
            Tcp(0, "10.0.0.1", 40000, "10.0.0.2", 50000, Ack, 1000, 2000),
            Tcp(10, "10.0.0.2", 50000, "10.0.0.1", 40000, PshAck, 2000, 1000, len: 30));
        Assert.Equal("Ad", r.History);
        Assert.Equal("OTH", r.ConnState);
        Assert.Equal(0UL, r.OrigBytes);
        Assert.Equal(30UL, r.RespBytes);
    }

    [Fact]
    public void SequenceWraparoundStillGivesExactByteCounts()
    {
        // Client ISN just below 2^32: its 3000 bytes cross the wrap. Server ISN too, 1500 bytes.
        uint c = 0xFFFF_FC00, s = 0xFFFF_FF00; // not const: the additions must wrap
        var p = new TcpScript();
        p.C(0, Syn, c, 0).S(1, SynAck, s, c + 1).C(2, Ack, c + 1, s + 1);
        for (uint i = 0; i < 3; i++)
            p.C(10 + i, PshAck, c + 1 + i * 1000, s + 1, len: 1000);
        p.S(20, PshAck, s + 1, c + 3001, len: 1500);
        p.C(30, FinAck, c + 3001, s + 1501)
         .S(31, FinAck, s + 1501, c + 3002)
         .C(32, Ack, c + 3002, s + 1502);
        var r = Single(p.ToArray());
        Assert.Equal("ShADdFf", r.History);
        Assert.Equal(3000UL, r.OrigBytes);
        Assert.Equal(1500UL, r.RespBytes);
        Assert.Equal("SF", r.ConnState);
        Assert.Equal(0UL, r.MissedBytes);
    }

    [Fact]
    public void LargeTransferPastFourGigabytesCountsTheFullSequenceSpace()
    {
        // 5 GiB in 64 KiB steps of sequence space (only every 4096th segment is shown, acked as it goes:
        // what counts is that the seq wraps once and the size is from the full 64-bit sequence space).
        const int step = 65536;
        const long total = 5L * 1024 * 1024 * 1024;
        var p = new TcpScript().Handshake();
        long sent = 0;
        int t = 300;
        while (sent < total)
        {
            p.C(t++, PshAck, (uint)(C0 + 1 + sent), S0 + 1, len: 1000);
            sent += step * 16;
            p.S(t++, Ack, S0 + 1, (uint)(C0 + 1 + sent));
        }
        p.C(t++, FinAck, (uint)(C0 + 1 + sent), S0 + 1)
         .S(t++, FinAck, S0 + 1, (uint)(C0 + 2 + sent))
         .C(t, Ack, (uint)(C0 + 2 + sent), S0 + 2);
        var r = Single(new ConnTrackOptions { TcpExcessiveDataWithoutFurtherAcks = 0 }, p.ToArray());
        Assert.Equal((ulong)total, r.OrigBytes);
        Assert.Equal("SF", r.ConnState);
    }

    // ---- flips ----

    [Fact]
    public void SynAckFirstFromALikelyServerPortFlipsAtOnce()
    {
        var r = Single(
            Tcp(0, "10.0.0.2", 80, "10.0.0.1", 40000, SynAck, S0, C0 + 1),
            Tcp(10, "10.0.0.1", 40000, "10.0.0.2", 80, Ack, C0 + 1, S0 + 1),
            Tcp(20, "10.0.0.1", 40000, "10.0.0.2", 80, PshAck, C0 + 1, S0 + 1, len: 10));
        Assert.Equal("^hAD", r.History);
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal((ushort)40000, r.OrigP);
        Assert.Equal((ushort)80, r.RespP);
        Assert.Equal(2UL, r.OrigPkts);
        Assert.Equal(1UL, r.RespPkts);
        Assert.Equal(10UL, r.OrigBytes);
    }

    [Fact]
    public void SynAckThenAckFlipRewritesTheHistory()
    {
        // Neither port is a likely server port: the SYN-ACK sender starts as originator ("H"); the ACK from
        // the other side shows who the client is: '^' and the letters so far with their case swapped.
        var r = Single(
            Tcp(0, "10.0.0.2", 50000, "10.0.0.1", 40000, SynAck, S0, C0 + 1),
            Tcp(10, "10.0.0.1", 40000, "10.0.0.2", 50000, Ack, C0 + 1, S0 + 1),
            Tcp(20, "10.0.0.2", 50000, "10.0.0.1", 40000, PshAck, S0 + 1, C0 + 1, len: 7));
        Assert.Equal("^hAd", r.History);
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal((ushort)40000, r.OrigP);
        Assert.Equal((ushort)50000, r.RespP);
        Assert.Equal(1UL, r.OrigPkts);
        Assert.Equal(2UL, r.RespPkts);
        Assert.Equal(7UL, r.RespBytes);
    }

    [Fact]
    public void SynAckBeforeSynAppendsTheFlipMark()
    {
        // The SYN-ACK is captured before its SYN (core.connection_flipped: "Hs^ADadFf").
        var r = Single(
            Tcp(0, "10.0.0.2", 50000, "10.0.0.1", 40000, SynAck, S0, C0 + 1),
            Tcp(1, "10.0.0.1", 40000, "10.0.0.2", 50000, Syn, C0, 0),
            Tcp(2, "10.0.0.1", 40000, "10.0.0.2", 50000, Ack, C0 + 1, S0 + 1));
        Assert.Equal("Hs^A", r.History);
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal((ushort)40000, r.OrigP);
        Assert.Equal(2UL, r.OrigPkts);
        Assert.Equal(1UL, r.RespPkts);
        Assert.Equal("S1", r.ConnState);
    }

    [Theory]
    // Zeek's TCPAnalyzer::WantConnection for a first packet that is not a plain SYN.
    [InlineData(80, 40000, "PshAck", true)]    // server port to a client port: flip
    [InlineData(40000, 80, "PshAck", false)]
    [InlineData(25, 80, "PshAck", true)]       // both plausible: flip when the source port is the lower
    [InlineData(80, 25, "PshAck", false)]
    [InlineData(25, 80, "SynAck", false)]      // ...but never for a SYN-ACK (stealth scans)
    [InlineData(80, 40000, "Syn", false)]      // a plain SYN is believed
    [InlineData(40000, 50000, "PshAck", false)]
    public void TcpFirstPacketFlipHeuristic(int srcPort, int dstPort, string flagName, bool flips)
    {
        var flags = flagName switch { "Syn" => Syn, "SynAck" => SynAck, _ => PshAck };
        var r = Single(Tcp(0, "10.0.0.1", (ushort)srcPort, "10.0.0.2", (ushort)dstPort, flags, 1000, 2000,
                           len: flags == PshAck ? 10 : 0));
        Assert.Equal(flips, r.History!.StartsWith('^'));
        Assert.Equal(flips ? (ushort)dstPort : (ushort)srcPort, r.OrigP);
        Assert.Equal(flips ? IPAddr128.Parse("10.0.0.2") : IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal(flips ? 0UL : 1UL, r.OrigPkts);
        Assert.Equal(flips ? 1UL : 0UL, r.RespPkts);
    }

    [Fact]
    public void UdpFromALikelyServerPortFlips()
    {
        var r = Single(Udp(0, "10.0.0.53", 53, "10.0.0.1", 33333, 60));
        Assert.Equal("^d", r.History);
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal((ushort)33333, r.OrigP);
        Assert.Equal((ushort)53, r.RespP);
        Assert.Equal("SHR", r.ConnState);
        Assert.Equal(0UL, r.OrigPkts);
        Assert.Equal(1UL, r.RespPkts);
        Assert.Equal(88UL, r.RespIpBytes);
    }

    [Fact]
    public void UdpBetweenTwoLikelyServerPortsDoesNotFlip()
    {
        var r = Single(Udp(0, "10.0.0.53", 53, "10.0.0.1", 123, 60));
        Assert.Equal("D", r.History);
        Assert.Equal((ushort)53, r.OrigP);
    }

    [Fact]
    public void BroadcastDestinationNeverBecomesTheOriginator()
    {
        var r = Single(Udp(0, "10.0.0.7", 67, "255.255.255.255", 68, 300));
        Assert.Equal("D", r.History);
        Assert.Equal(IPAddr128.Parse("10.0.0.7"), r.OrigH);
        Assert.Equal((ushort)67, r.OrigP);
        Assert.Equal(IPAddr128.Parse("255.255.255.255"), r.RespH);
        Assert.Equal("S0", r.ConnState);

        // The same datagram to a unicast address flips.
        var unicast = Single(Udp(0, "10.0.0.7", 67, "10.0.0.9", 68, 300));
        Assert.Equal("^d", unicast.History);
        Assert.Equal((ushort)68, unicast.OrigP);
    }

    [Fact]
    public void UdpRequestAndReplyAreSf()
    {
        var r = Single(
            Udp(0, "10.0.0.1", 33333, "10.0.0.53", 53, 40),
            Udp(5, "10.0.0.53", 53, "10.0.0.1", 33333, 120),
            Udp(9, "10.0.0.1", 33333, "10.0.0.53", 53, 40));
        Assert.Equal("Dd", r.History);
        Assert.Equal("SF", r.ConnState);
        Assert.Equal(80UL, r.OrigBytes);
        Assert.Equal(120UL, r.RespBytes);
        Assert.Equal(2UL, r.OrigPkts);
        Assert.Equal(2UL * 68, r.OrigIpBytes);
        Assert.Equal(9 * NsPerMs, r.Duration);
        Assert.Equal(TransportProto.Udp, r.Proto);
    }

    // ---- ICMP and other protocols ----

    [Fact]
    public void IcmpEchoRequestAndReplyShareOneConnection()
    {
        var records = Run(
            Icmp(0, "10.0.0.1", "10.0.0.2", 8, 0, 56),
            Icmp(3, "10.0.0.2", "10.0.0.1", 0, 0, 56),
            Icmp(1000, "10.0.0.1", "10.0.0.2", 8, 0, 56),
            Icmp(1003, "10.0.0.2", "10.0.0.1", 0, 0, 56));
        var r = Assert.Single(records);
        Assert.Equal(TransportProto.Icmp, r.Proto);
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), r.OrigH);
        Assert.Equal((ushort)8, r.OrigP);
        Assert.Equal((ushort)0, r.RespP);
        Assert.Equal(2UL, r.OrigPkts);
        Assert.Equal(2UL, r.RespPkts);
        Assert.Equal(112UL, r.OrigBytes);
        Assert.Equal(112UL, r.RespBytes);
        Assert.Equal(2UL * 84, r.OrigIpBytes);
        Assert.Equal(1003 * NsPerMs, r.Duration);
        Assert.Equal("OTH", r.ConnState);
        Assert.Null(r.History);
    }

    [Fact]
    public void OneWayIcmpKeepsItsDirectionWithTheCodeAsResponderPort()
    {
        var records = Run(
            Icmp(0, "10.0.0.254", "10.0.0.1", 3, 1, 36),
            Icmp(10, "10.0.0.1", "10.0.0.254", 3, 1, 36)); // the other way: a connection of its own
        Assert.Equal(2, records.Count);
        var r = records[0];
        Assert.Equal(IPAddr128.Parse("10.0.0.254"), r.OrigH);
        Assert.Equal((ushort)3, r.OrigP);
        Assert.Equal((ushort)1, r.RespP);
        Assert.Equal(1UL, r.OrigPkts);
        Assert.Equal(0UL, r.RespPkts);
        Assert.Equal("OTH", r.ConnState);
        Assert.Equal(IPAddr128.Parse("10.0.0.1"), records[1].OrigH);
        Assert.NotEqual(records[0].Uid, records[1].Uid);
    }

    [Fact]
    public void UnknownIpProtocolIsTrackedWithoutPorts()
    {
        var r = Single(
            OtherIp(0, "10.0.0.1", "10.0.0.2", 47, 100),
            OtherIp(20, "10.0.0.2", "10.0.0.1", 47, 60),
            OtherIp(40, "10.0.0.1", "10.0.0.2", 47, 100));
        Assert.Equal(TransportProto.Unknown, r.Proto);
        Assert.Equal(47, r.IpProto);
        Assert.Equal((ushort)0, r.OrigP);
        Assert.Equal((ushort)0, r.RespP);
        Assert.Equal("OTH", r.ConnState);
        Assert.Equal(2UL, r.OrigPkts);
        Assert.Equal(240UL, r.OrigIpBytes);
        Assert.Equal(1UL, r.RespPkts);
        Assert.Equal(80UL, r.RespIpBytes);
        Assert.Equal(40 * NsPerMs, r.Duration);
        Assert.Equal(0UL, r.OrigBytes);
        Assert.Null(r.History);
    }
}

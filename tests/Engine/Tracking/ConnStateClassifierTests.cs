using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking.Tcp;
using Xunit;
using S = ConnTrack.Engine.Tracking.Tcp.TcpEndpointState;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// conn_state as Zeek's conn_state() in base/protocols/conn/main.zeek computes it. Expected values are worked
/// out by hand from that function, branch by branch, not from our implementation.
/// </summary>
public class ConnStateClassifierTests
{
    private static readonly S[] Order =
        [S.Inactive, S.SynSent, S.SynAckSent, S.Partial, S.Established, S.Closed, S.Reset];

    // Rows: originator state, columns: responder state, both in the order of `Order`; sizes 0, empty history.
    private static readonly string[,] Grid =
    {
        //            Inactive  SynSent  SynAckSent Partial Established Closed   Reset
        /* Inact  */ { "OTH",   "OTH",   "OTH",     "OTH",  "OTH",      "SHR",   "RSTRH" },
        /* SynSnt */ { "S0",    "OTH",   "OTH",     "OTH",  "OTH",      "S3",    "REJ" },
        /* SynAck */ { "OTH",   "OTH",   "OTH",     "OTH",  "OTH",      "S3",    "REJ" },
        /* Part   */ { "OTH",   "OTH",   "OTH",     "OTH",  "OTH",      "SHR",   "RSTRH" },
        /* Estab  */ { "OTH",   "OTH",   "OTH",     "OTH",  "S1",       "S3",    "RSTR" },
        /* Closed */ { "SH",    "S2",    "S2",      "SH",   "S2",       "SF",    "RSTR" },
        /* Reset  */ { "OTH",   "RSTO",  "RSTO",    "OTH",  "RSTO",     "RSTO",  "REJ" },
    };

    public static TheoryData<S, S, string> EveryStatePair()
    {
        var data = new TheoryData<S, S, string>();
        for (int o = 0; o < Order.Length; o++)
            for (int r = 0; r < Order.Length; r++)
                data.Add(Order[o], Order[r], Grid[o, r]);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStatePair))]
    public void TcpStatePairsWithNoBytesAndNoHistory(S orig, S resp, string expected) =>
        Assert.Equal(expected, ConnStateClassifier.Tcp(orig, resp, 0, 0, ""));

    [Fact]
    public void GridCoversEveryEndpointState() =>
        Assert.Equal(Enum.GetValues<S>().OrderBy(s => s), Order.OrderBy(s => s));

    [Theory]
    // Both reset: REJ only when neither side sent a byte; otherwise the responder's RST decides (RSTR).
    [InlineData(0UL, 0UL, "REJ")]
    [InlineData(1UL, 0UL, "RSTR")]
    [InlineData(0UL, 1UL, "RSTR")]
    [InlineData(500UL, 700UL, "RSTR")]
    public void BothResetDependsOnSizes(ulong origSize, ulong respSize, string expected) =>
        Assert.Equal(expected, ConnStateClassifier.Tcp(S.Reset, S.Reset, origSize, respSize, "ShADadRr"));

    [Theory]
    [InlineData(S.SynSent, 100UL)]
    [InlineData(S.SynAckSent, 100UL)]
    public void ResponderResetAfterHandshakeStartIsRejEvenWithBytes(S orig, ulong size) =>
        Assert.Equal("REJ", ConnStateClassifier.Tcp(orig, S.Reset, size, size, "Sr"));

    [Theory]
    // Zeek: /\^?S[^HAFGIQ]*R.*/ == history (an exact match): optional '^', an 'S', then no H/A/F/G/I/Q
    // (upper case only: lower-case letters are the responder's and do not count) before an 'R'.
    [InlineData("SR", "RSTOS0")]
    [InlineData("^SR", "RSTOS0")]
    [InlineData("SRA", "RSTOS0")]       // anything may follow the R
    [InlineData("STR", "RSTOS0")]       // a retransmission does not count
    [InlineData("SWCR", "RSTOS0")]
    [InlineData("SDR", "RSTOS0")]       // data is not in the excluded set
    [InlineData("SaR", "RSTOS0")]       // responder letters are lower case: not excluded
    [InlineData("ShR", "RSTOS0")]
    [InlineData("SSR", "RSTOS0")]
    [InlineData("SHR", "OTH")]
    [InlineData("SAR", "OTH")]
    [InlineData("SFR", "OTH")]
    [InlineData("SGR", "OTH")]
    [InlineData("SIR", "OTH")]
    [InlineData("SQR", "OTH")]
    [InlineData("S", "OTH")]            // no RST letter at all
    [InlineData("Sr", "OTH")]           // the responder's r is not an R
    [InlineData("R", "OTH")]
    [InlineData("DSR", "OTH")]          // must start with S (after an optional '^')
    [InlineData("^^SR", "OTH")]         // only one '^'
    [InlineData("S^R", "RSTOS0")]       // '^' is no excluded letter
    [InlineData("", "OTH")]
    public void OriginatorResetWithInactiveResponderReadsTheHistory(string history, string expected)
    {
        Assert.Equal(expected, ConnStateClassifier.Tcp(S.Reset, S.Inactive, 0, 0, history));
        Assert.Equal(expected, ConnStateClassifier.Tcp(S.Reset, S.Partial, 0, 0, history));
        Assert.Equal(expected == "RSTOS0", ConnStateClassifier.IsSynThenReset(history));
    }

    [Theory]
    [InlineData(S.SynSent)]
    [InlineData(S.SynAckSent)]
    [InlineData(S.Established)]
    [InlineData(S.Closed)]
    public void OriginatorResetWithActiveResponderIsRstoWhateverTheHistory(S resp)
    {
        Assert.Equal("RSTO", ConnStateClassifier.Tcp(S.Reset, resp, 0, 0, "SR"));
        Assert.Equal("RSTO", ConnStateClassifier.Tcp(S.Reset, resp, 10, 20, "ShADadR"));
    }

    [Theory]
    // Sizes and history only matter in the two branches above; elsewhere they change nothing.
    [InlineData(S.Closed, S.Closed, "SF")]
    [InlineData(S.Established, S.Established, "S1")]
    [InlineData(S.SynSent, S.Inactive, "S0")]
    [InlineData(S.Closed, S.Inactive, "SH")]
    [InlineData(S.Inactive, S.Closed, "SHR")]
    [InlineData(S.Closed, S.Established, "S2")]
    [InlineData(S.Established, S.Closed, "S3")]
    [InlineData(S.Established, S.Reset, "RSTR")]
    [InlineData(S.Partial, S.Reset, "RSTRH")]
    [InlineData(S.Partial, S.Partial, "OTH")]
    public void SizesAndHistoryDoNotChangeOtherStates(S orig, S resp, string expected)
    {
        Assert.Equal(expected, ConnStateClassifier.Tcp(orig, resp, 0, 0, ""));
        Assert.Equal(expected, ConnStateClassifier.Tcp(orig, resp, 12345, 678, "SR"));
    }

    [Theory]
    [InlineData(true, true, "SF")]
    [InlineData(true, false, "S0")]
    [InlineData(false, true, "SHR")]
    [InlineData(false, false, "OTH")]
    public void Udp(bool origActive, bool respActive, string expected) =>
        Assert.Equal(expected, ConnStateClassifier.Udp(origActive, respActive));
}

using ConnTrack.Conformance;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Conformance;

public sealed class ScorerTests
{
    private static readonly List<string> AllFields =
    [
        "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes",
        "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts",
        "resp_ip_bytes", "tunnel_parents", "ip_proto",
    ];

    private const string Header =
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n" +
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n";

    private static ConformanceCase Case(string mode = "5-tuple", bool? maskedTs = true, List<string>? fields = null, string category = "core-tcp") => new()
    {
        Name = "t", Category = category, MatchMode = mode, MaskedTs = maskedTs, CompareFields = fields ?? AllFields,
    };

    private static List<ZeekLogRow> Rows(string body) => ZeekLogReader.FromText(Header + body).ReadRows().ToList();

    private static ConnRecord Tcp(string orig, ushort op, string resp, ushort rp, long tsMicros = 1_000_000, string history = "ShADadfF") => new()
    {
        Ts = tsMicros * 1000, Uid = "Cx", OrigH = IPAddr128.Parse(orig), OrigP = op, RespH = IPAddr128.Parse(resp), RespP = rp,
        Proto = TransportProto.Tcp, Duration = 10_914_549_000, OrigBytes = 16, RespBytes = 191, ConnState = "SF",
        LocalOrig = false, LocalResp = false, MissedBytes = 0, History = history, OrigPkts = 13, OrigIpBytes = 704,
        RespPkts = 12, RespIpBytes = 823, IpProto = 6,
    };

    private const string Row1 = "XXXXXXXXXX.XXXXXX\tC1\t167.221.30.181\t59406\t217.207.159.63\t27272\ttcp\thttp\t10.914549\t16\t191\tSF\tF\tF\t0\tShADadfF\t13\t704\t12\t823\t-\t6\n";

    [Fact]
    public void Equal_row_passes_and_service_difference_is_reported_apart()
    {
        var result = Scorer.Compare(Case(), Rows(Row1), [Tcp("167.221.30.181", 59406, "217.207.159.63", 27272)]);
        Assert.True(result.Passed, result.Details());
        Assert.Equal((1, 1), (result.MatchedRows, result.ExpectedRows));
        var service = Assert.Single(result.ServiceMismatches);
        Assert.Equal(("http", "-"), (service.Expected, service.Actual));
        Assert.DoesNotContain("service", result.ComparedFields);
        Assert.Contains("t  PASS  rows 1/1  fields wrong 0", result.SummaryLine());
    }

    [Fact]
    public void Field_difference_fails_with_zeek_text_of_both_sides()
    {
        var ours = Tcp("167.221.30.181", 59406, "217.207.159.63", 27272, history: "ShADadF");
        ours.Duration = 10_914_549_499; // rounds to the same microsecond
        ours.LocalOrig = null;
        var result = Scorer.Compare(Case(), Rows(Row1), [ours]);
        Assert.False(result.Passed);
        Assert.Equal(0, result.MatchedRows);
        Assert.Equal(1, result.PairedRows);
        Assert.Collection(result.Mismatches,
            m => Assert.Equal(("local_orig", "F", "-"), (m.Field, m.Expected, m.Actual)),
            m => Assert.Equal(("history", "ShADadfF", "ShADadF"), (m.Field, m.Expected, m.Actual)));
        Assert.Contains("expected 'ShADadfF' got 'ShADadF'", result.Details());
    }

    [Fact]
    public void Missing_row_fails_and_extra_row_is_only_reported_in_5tuple_mode()
    {
        var result = Scorer.Compare(Case(), Rows(Row1), [Tcp("167.221.30.181", 59406, "217.207.159.63", 27273)]);
        Assert.False(result.Passed);
        Assert.Single(result.MissingRows);
        Assert.Single(result.ExtraRows);

        var both = Scorer.Compare(Case(), Rows(Row1),
            [Tcp("167.221.30.181", 59406, "217.207.159.63", 27272), Tcp("1.1.1.1", 1, "2.2.2.2", 2)]);
        Assert.True(both.Passed, both.Details());
        Assert.Single(both.ExtraRows);
    }

    [Fact]
    public void Same_tuple_rows_pair_in_ts_order()
    {
        var second = Row1.Replace("ShADadfF", "S").Replace("C1", "C2");
        var ours = new List<ConnRecord>
        {
            Tcp("167.221.30.181", 59406, "217.207.159.63", 27272, tsMicros: 2_000_000, history: "S"),
            Tcp("167.221.30.181", 59406, "217.207.159.63", 27272, tsMicros: 1_000_000),
        };
        var result = Scorer.Compare(Case(), Rows(Row1 + second), ours);
        Assert.True(result.Passed, result.Details());
        Assert.Equal(2, result.MatchedRows);
    }

    [Fact]
    public void Multiset_needs_every_expected_tuple()
    {
        var fields = new List<string> { "history", "service" };
        var expected = Rows(Row1 + Row1.Replace("59406", "1"));
        var one = Tcp("9.9.9.9", 9, "8.8.8.8", 8);
        var ok = Scorer.Compare(Case("multiset", null, fields), expected, [one, Tcp("7.7.7.7", 7, "6.6.6.6", 6)]);
        Assert.True(ok.Passed, ok.Details());
        Assert.Equal(["history"], ok.ComparedFields);

        // Baselines may be filtered subsets: an extra row is reported, not failed.
        var extra = Scorer.Compare(Case("multiset", null, fields), expected, [one, one, Tcp("1.1.1.1", 1, "2.2.2.2", 2, history: "S")]);
        Assert.True(extra.Passed, extra.Details());
        Assert.Single(extra.ExtraRows);

        var missing = Scorer.Compare(Case("multiset", null, fields), expected, [one]);
        Assert.False(missing.Passed);
        Assert.Single(missing.MissingRows);

        var wrong = Scorer.Compare(Case("multiset", null, fields), expected, [one, Tcp("1.1.1.1", 1, "2.2.2.2", 2, history: "S")]);
        Assert.False(wrong.Passed);
        var m = Assert.Single(wrong.Mismatches);
        Assert.Equal(("ShADadfF", "S"), (m.Expected, m.Actual));
    }

    [Fact]
    public void Partial_key_pairs_by_its_fields()
    {
        var fields = new List<string> { "id.orig_h", "id.resp_h", "history" };
        var result = Scorer.Compare(Case("partial-key(id.orig_h,id.resp_h)", null, fields), Rows(Row1),
            [Tcp("167.221.30.181", 1, "217.207.159.63", 2)]);
        Assert.True(result.Passed, result.Details());
    }

    [Fact]
    public void Ts_is_compared_only_when_unmasked()
    {
        var body = Row1.Replace("XXXXXXXXXX.XXXXXX", "1300475167.096535");
        var fields = new List<string> { "ts", "history" };
        var ours = Tcp("167.221.30.181", 59406, "217.207.159.63", 27272, tsMicros: 1_300_475_167_096_536);
        var compared = Scorer.Compare(Case("5-tuple", false, fields), Rows(body), [ours]);
        var m = Assert.Single(compared.Mismatches);
        Assert.Equal(("ts", "1300475167.096535", "1300475167.096536"), (m.Field, m.Expected, m.Actual));

        var masked = Scorer.Compare(Case("5-tuple", true, fields), Rows(body), [ours]);
        Assert.True(masked.Passed, masked.Details());
    }

    [Fact]
    public void Tunnel_rows_are_excluded()
    {
        var outer = "XXXXXXXXXX.XXXXXX\tCo\t10.1.200.131\t50000\t10.1.1.172\t4789\tudp\tvxlan\t1.000000\t0\t0\tS0\tT\tT\t0\tD\t2\t100\t0\t0\t-\t17\n";
        var inner = Row1.Replace("\t-\t6", "\tCo\t6");
        var plain = Row1.Replace("59406", "1");
        var result = Scorer.Compare(Case(category: "tunnels"), Rows(outer + inner + plain),
            [Tcp("167.221.30.181", 1, "217.207.159.63", 27272)]);
        Assert.True(result.Passed, result.Details());
        Assert.Equal(1, result.ExpectedRows);
        Assert.Equal(2, result.ExcludedTunnelRows.Count);

        var all = Scorer.Compare(Case(category: "tunnels"), Rows(outer + inner), []);
        Assert.True(all.Excluded);
        Assert.Equal("EXCLUDED", all.Verdict);
        Assert.Equal("conformance: 1 passed, 0 known differences, 0 failed, 1 excluded", Scorer.TotalLine([result, all]));
    }

    [Theory]
    [InlineData("udp", "50000", "4789", "17", "-", true)]
    [InlineData("udp", "2152", "53", "17", "dns", false)]
    [InlineData(null, null, null, "47", null, true)]
    [InlineData("udp", "1", "2", "17", "geneve", true)]
    [InlineData("tcp", "1", "4789", "6", "-", false)]
    public void Tells_tunnel_outer_rows(string? proto, string? op, string? rp, string? ipProto, string? service, bool outer) =>
        Assert.Equal(outer, Scorer.LooksLikeTunnelOuter(proto, op, rp, ipProto, service));

    [Theory]
    [InlineData(1_300_475_167_096_535_000L, "1300475167.096535")]
    [InlineData(1_300_475_167_096_535_999L, "1300475167.096535")] // Zeek sees microseconds
    [InlineData(1_000_000L, "0.001000")]
    public void Formats_ts_like_zeek(long nanos, string text) => Assert.Equal(text, ConnFieldText.Format(new ConnRecord { Ts = nanos }, "ts"));

    [Fact]
    public void Formats_unset_empty_and_sets()
    {
        var r = new ConnRecord { History = "", TunnelParents = ["Cb", "Ca"], LocalOrig = true, OrigH = IPAddr128.Parse("2001:db8::1"), Vlan = 10 };
        Assert.Equal("(empty)", ConnFieldText.Format(r, "history"));
        Assert.Equal("-", ConnFieldText.Format(r, "service"));
        Assert.Equal("-", ConnFieldText.Format(r, "duration"));
        Assert.Equal("Cb,Ca", ConnFieldText.Format(r, "tunnel_parents"));
        Assert.True(Scorer.FieldEquals("tunnel_parents", "Ca,Cb", "Cb,Ca"));
        Assert.False(Scorer.FieldEquals("history", "Ca,Cb", "Cb,Ca"));
        Assert.Equal("T", ConnFieldText.Format(r, "local_orig"));
        Assert.Equal("2001:db8::1", ConnFieldText.Format(r, "id.orig_h"));
        Assert.Equal("10", ConnFieldText.Format(r, "id.ctx.vlan"));
        Assert.Equal("-", ConnFieldText.Format(r, "inner_vlan"));
        Assert.Equal("-", ConnFieldText.Format(r, "orig_l2_addr")); // no link-layer address: unset, as Zeek
        Assert.Null(ConnFieldText.Format(r, "no_such_column"));
    }

    [Fact]
    public void Maps_case_options_to_engine_options()
    {
        var c = Case();
        c.Options.IgnoreChecksums = true;
        c.Options.BpfFilter = "port 50000";
        c.Options.ConnKey = "vlan-aware: connections are keyed by 5-tuple plus outer/inner 802.1Q VLAN ids";
        c.Options.LikelyServerPortsEffective = ["80/tcp", "53/udp"];
        c.Options.OtherSettings = ["max_timer_expires: set to 0 (command line)"];
        var o = CaseOptionsMapper.ToEngineOptions(c);
        Assert.True(o.IgnoreChecksums);
        Assert.Equal("port 50000", o.CaptureFilter);
        Assert.True(o.VlanAwareConnKey);
        Assert.Equal(0, o.MaxTimerExpires);
        Assert.Equal(new HashSet<PortSpec> { new(80, TransportProto.Tcp), new(53, TransportProto.Udp) }, o.LikelyServerPorts);
        Assert.NotEmpty(o.PortInactivityTimeouts);

        var d = CaseOptionsMapper.ToEngineOptions(Case());
        Assert.False(d.VlanAwareConnKey);
        Assert.Null(d.CaptureFilter);
        Assert.Equal(300, d.MaxTimerExpires);
    }
}

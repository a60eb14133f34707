using System.Net;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Config;

public class ConnTrackConfigTests
{
    private const string Src = "conntrack.yaml";

    private static ConnTrackOptions Load(string yaml) => ConnTrackConfigLoader.LoadFromText(yaml, Src);

    private static ConnTrackConfigException Fails(string yaml) =>
        Assert.Throws<ConnTrackConfigException>(() => Load(yaml));

    /// <summary>Asserts two options are equal in every setting (order of sets and maps aside).</summary>
    internal static void AssertSameOptions(ConnTrackOptions expected, ConnTrackOptions actual)
    {
        Assert.Equal(expected.TcpInactivityTimeout, actual.TcpInactivityTimeout);
        Assert.Equal(expected.UdpInactivityTimeout, actual.UdpInactivityTimeout);
        Assert.Equal(expected.IcmpInactivityTimeout, actual.IcmpInactivityTimeout);
        Assert.Equal(expected.UnknownIpInactivityTimeout, actual.UnknownIpInactivityTimeout);
        Assert.Equal(expected.TcpSynTimeout, actual.TcpSynTimeout);
        Assert.Equal(expected.TcpSessionTimer, actual.TcpSessionTimer);
        Assert.Equal(expected.TcpConnectionLinger, actual.TcpConnectionLinger);
        Assert.Equal(expected.TcpAttemptDelay, actual.TcpAttemptDelay);
        Assert.Equal(expected.TcpCloseDelay, actual.TcpCloseDelay);
        Assert.Equal(expected.TcpResetDelay, actual.TcpResetDelay);
        Assert.Equal(expected.TcpPartialCloseDelay, actual.TcpPartialCloseDelay);
        Assert.Equal(expected.PortInactivityTimeouts.OrderBy(k => k.Key.ToString()), actual.PortInactivityTimeouts.OrderBy(k => k.Key.ToString()));
        Assert.Equal(expected.MaxTimerExpires, actual.MaxTimerExpires);
        Assert.True(expected.LikelyServerPorts.SetEquals(actual.LikelyServerPorts));
        Assert.Equal(expected.LocalNets, actual.LocalNets);
        Assert.Equal(expected.IgnoreChecksums, actual.IgnoreChecksums);
        Assert.Equal(expected.CaptureFilter, actual.CaptureFilter);
        Assert.Equal(expected.VlanAwareConnKey, actual.VlanAwareConnKey);
        Assert.Equal(expected.MaxConnections, actual.MaxConnections);
        Assert.Equal(expected.UidSeed, actual.UidSeed);
        Assert.Equal(expected.DnsSessionTimeout, actual.DnsSessionTimeout);
        Assert.True(expected.DnsAnalyzerPorts.SetEquals(actual.DnsAnalyzerPorts));
        Assert.Equal(expected.ReportGapsForPartial, actual.ReportGapsForPartial);
        Assert.Equal(expected.TcpExcessiveDataWithoutFurtherAcks, actual.TcpExcessiveDataWithoutFurtherAcks);
        Assert.Equal(expected.UseConnSizeAnalyzer, actual.UseConnSizeAnalyzer);
    }

    [Fact]
    public void AnalyzerEmulationKeysOverride()
    {
        var o = ConnTrackConfigLoader.LoadFromText(
            "dns_session_timeout: 30 secs\ndns_analyzer_ports: []\nreport_gaps_for_partial: true\n" +
            "tcp_excessive_data_without_further_acks: 0\nuse_conn_size_analyzer: false\n", "t.yaml");
        Assert.Equal(TimeSpan.FromSeconds(30), o.DnsSessionTimeout);
        Assert.Empty(o.DnsAnalyzerPorts);
        Assert.True(o.ReportGapsForPartial);
        Assert.Equal(0, o.TcpExcessiveDataWithoutFurtherAcks);
        Assert.False(o.UseConnSizeAnalyzer);
        var bad = Assert.Throws<ConnTrackConfigException>(() => ConnTrackConfigLoader.LoadFromText("dns_analyzer_ports: [53, dns]\n", "t.yaml"));
        Assert.Contains("t.yaml:1:", bad.Message);
        Assert.Contains("dns_analyzer_ports", bad.Message);
    }

    // ---- defaults and round trips ------------------------------------------------------------------

    [Fact]
    public void Template_LoadsBackToTheDefaults()
    {
        var template = ConnTrackConfigWriter.Template();
        AssertSameOptions(new ConnTrackOptions(), Load(template));
    }

    [Fact]
    public void Template_HasEveryKeyWithAComment()
    {
        var lines = ConnTrackConfigWriter.Template().Split('\n');
        foreach (var key in ConnTrackConfigLoader.Keys)
        {
            int i = Array.FindIndex(lines, l => l.StartsWith(key + ":", StringComparison.Ordinal));
            Assert.True(i > 0, $"template lacks {key}");
            Assert.StartsWith("# ", lines[i - 1]);
        }
        Assert.Contains("tcp_inactivity_timeout: 5 min", lines);
        Assert.Contains("udp_inactivity_timeout: 1 min", lines);
        Assert.Contains("  21/tcp: 1 hr", lines);
        Assert.Contains("private_address_space_is_local: true", lines);
        Assert.All(lines, l => Assert.True(l.Length <= 130, l));
    }

    [Fact]
    public void EmptyFile_GivesDefaults()
    {
        AssertSameOptions(new ConnTrackOptions(), Load(""));
        AssertSameOptions(new ConnTrackOptions(), Load("# only a comment\n"));
    }

    [Fact]
    public void ToYaml_RoundTripsChangedOptions()
    {
        var o = new ConnTrackOptions
        {
            TcpInactivityTimeout = TimeSpan.FromSeconds(90),
            UdpInactivityTimeout = TimeSpan.FromMilliseconds(1500),
            IcmpInactivityTimeout = TimeSpan.FromTicks(15), // 1.5 usec
            TcpSynTimeout = TimeSpan.FromHours(2),
            MaxTimerExpires = 0,
            IgnoreChecksums = true,
            VlanAwareConnKey = true,
            MaxConnections = 42,
            UidSeed = ulong.MaxValue,
            CaptureFilter = "tcp and \"port\" 80\\x",
        };
        o.PortInactivityTimeouts = new() { [new PortSpec(8080, TransportProto.Tcp)] = TimeSpan.FromDays(2) };
        o.LikelyServerPorts = new() { new PortSpec(1, TransportProto.Udp), new PortSpec(8, TransportProto.Icmp) };
        o.LocalNets = new() { IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("2001:db8::/32") };
        var yaml = ConnTrackConfigWriter.ToYaml(o);
        AssertSameOptions(o, Load(yaml));

        o.LocalNets = ZeekDefaults.LocalNets().Append(IPNetwork.Parse("1.2.3.0/24")).ToList();
        AssertSameOptions(o, Load(ConnTrackConfigWriter.ToYaml(o)));

        o.LocalNets = new();
        o.LikelyServerPorts = new();
        o.PortInactivityTimeouts = new();
        o.CaptureFilter = null;
        AssertSameOptions(o, Load(ConnTrackConfigWriter.ToYaml(o)));
    }

    // ---- each key overrides ----------------------------------------------------------------------

    [Theory]
    [InlineData("tcp_inactivity_timeout")]
    [InlineData("udp_inactivity_timeout")]
    [InlineData("icmp_inactivity_timeout")]
    [InlineData("unknown_ip_inactivity_timeout")]
    [InlineData("tcp_SYN_timeout")]
    [InlineData("tcp_syn_timeout")]
    [InlineData("tcp_session_timer")]
    [InlineData("tcp_connection_linger")]
    [InlineData("tcp_attempt_delay")]
    [InlineData("tcp_close_delay")]
    [InlineData("tcp_reset_delay")]
    [InlineData("tcp_partial_close_delay")]
    public void DurationKeys_Override(string key)
    {
        var o = Load($"schema_version: 1\n{key}: 17 sec\n");
        var getters = new Dictionary<string, Func<ConnTrackOptions, TimeSpan>>
        {
            ["tcp_inactivity_timeout"] = x => x.TcpInactivityTimeout,
            ["udp_inactivity_timeout"] = x => x.UdpInactivityTimeout,
            ["icmp_inactivity_timeout"] = x => x.IcmpInactivityTimeout,
            ["unknown_ip_inactivity_timeout"] = x => x.UnknownIpInactivityTimeout,
            ["tcp_SYN_timeout"] = x => x.TcpSynTimeout,
            ["tcp_syn_timeout"] = x => x.TcpSynTimeout,
            ["tcp_session_timer"] = x => x.TcpSessionTimer,
            ["tcp_connection_linger"] = x => x.TcpConnectionLinger,
            ["tcp_attempt_delay"] = x => x.TcpAttemptDelay,
            ["tcp_close_delay"] = x => x.TcpCloseDelay,
            ["tcp_reset_delay"] = x => x.TcpResetDelay,
            ["tcp_partial_close_delay"] = x => x.TcpPartialCloseDelay,
        };
        Assert.Equal(TimeSpan.FromSeconds(17), getters[key](o));
        // Nothing else moved.
        foreach (var (other, get) in getters)
            if (get(o) != TimeSpan.FromSeconds(17))
                Assert.Equal(get(new ConnTrackOptions()), get(o));
    }

    [Fact]
    public void ScalarKeys_Override()
    {
        var o = Load("""
            max_timer_expires: 0
            ignore_checksums: true
            memory_map_files: true
            vlan_aware_conn_key: yes
            max_connections: 1_000
            uid_seed: 0xDEADBEEF
            capture_filter: 'tcp port 80'
            """);
        Assert.Equal(0, o.MaxTimerExpires);
        Assert.True(o.IgnoreChecksums);
        Assert.True(o.MemoryMapFiles);
        Assert.False(new ConnTrackOptions().MemoryMapFiles); // off by default: the copy through the buffer is the steadier speed
        Assert.True(o.VlanAwareConnKey);
        Assert.Equal(1000, o.MaxConnections);
        Assert.Equal(0xDEADBEEFUL, o.UidSeed);
        Assert.Equal("tcp port 80", o.CaptureFilter);
        Assert.Equal(12345UL, Load("uid_seed: 12345").UidSeed);
        Assert.Null(Load("capture_filter: null").CaptureFilter);
    }

    [Fact]
    public void PortInactivityTimeouts_ReplaceTheDefaults()
    {
        var o = Load("port_inactivity_timeouts:\n  \"21/tcp\": 2 hr\n  8080/tcp: 90\n");
        Assert.Equal(2, o.PortInactivityTimeouts.Count);
        Assert.Equal(TimeSpan.FromHours(2), o.PortInactivityTimeouts[new PortSpec(21, TransportProto.Tcp)]);
        Assert.Equal(TimeSpan.FromSeconds(90), o.PortInactivityTimeouts[new PortSpec(8080, TransportProto.Tcp)]);
    }

    [Fact]
    public void LikelyServerPorts_ReplaceAddRemove()
    {
        var replaced = Load("likely_server_ports: [80/tcp, 53/udp]");
        Assert.True(replaced.LikelyServerPorts.SetEquals(new[] { new PortSpec(80, TransportProto.Tcp), new PortSpec(53, TransportProto.Udp) }));

        var edited = Load("likely_server_ports_add:\n  - 8443/tcp\nlikely_server_ports_remove: [80/tcp]\n");
        var expected = ZeekDefaults.LikelyServerPorts();
        expected.Add(new PortSpec(8443, TransportProto.Tcp));
        expected.Remove(new PortSpec(80, TransportProto.Tcp));
        Assert.True(expected.SetEquals(edited.LikelyServerPorts));

        var both = Load("likely_server_ports_remove: [80/tcp]\nlikely_server_ports: [80/tcp, 81/tcp]\n");
        Assert.Equal(new[] { new PortSpec(81, TransportProto.Tcp) }, both.LikelyServerPorts.ToArray());
    }

    [Fact]
    public void LocalNets_ReplaceAddAndPrivateSpace()
    {
        var defaults = ZeekDefaults.LocalNets();
        Assert.Equal(new[] { IPNetwork.Parse("10.0.0.0/8") }, Load("local_nets: ['10.0.0.0/8']").LocalNets);
        Assert.Equal(defaults.Append(IPNetwork.Parse("1.2.3.0/24")), Load("local_nets_add: [1.2.3.0/24]").LocalNets);
        Assert.Empty(Load("private_address_space_is_local: false").LocalNets);
        Assert.Equal(new[] { IPNetwork.Parse("1.2.3.0/24") },
            Load("private_address_space_is_local: false\nlocal_nets_add: [1.2.3.0/24]").LocalNets);
        Assert.Equal(defaults.Append(IPNetwork.Parse("2a00:1450::/32")),
            Load("private_address_space_is_local: true\nlocal_nets: ['2a00:1450::/32', '10.0.0.0/8']").LocalNets);
        // Host bits are masked as Zeek does for subnets; a bare address is a host network.
        Assert.Equal(new[] { IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.0.2.7/32") },
            Load("local_nets: [10.1.2.3/8, 192.0.2.7]").LocalNets);
    }

    // ---- durations ---------------------------------------------------------------------------------

    [Theory]
    [InlineData("5 min", 300_000)]
    [InlineData("5 mins", 300_000)]
    [InlineData("5min", 300_000)]
    [InlineData("1 hr", 3_600_000)]
    [InlineData("2 hrs", 7_200_000)]
    [InlineData("3 secs", 3_000)]
    [InlineData("500 msec", 500)]
    [InlineData("1.5 sec", 1_500)]
    [InlineData("1 day", 86_400_000)]
    [InlineData("250 usec", 0.25)]
    [InlineData("300", 300_000)]
    [InlineData("0.5", 500)]
    public void Durations_Parse(string text, double milliseconds)
    {
        Assert.True(ZeekInterval.TryParse(text, out var t));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), t);
    }

    [Theory]
    [InlineData("5 minutes")]
    [InlineData("-5 sec")]
    [InlineData("min")]
    [InlineData("5 m")]
    [InlineData("1.2.3 sec")]
    [InlineData("")]
    public void Durations_Reject(string text) => Assert.False(ZeekInterval.TryParse(text, out _));

    [Theory]
    [InlineData(300_000, "5 min")]
    [InlineData(3_600_000, "1 hr")]
    [InlineData(1_500, "1500 msec")]
    [InlineData(6_000, "6 sec")]
    [InlineData(172_800_000, "2 day")]
    public void Durations_Format(double milliseconds, string expected) =>
        Assert.Equal(expected, ZeekInterval.Format(TimeSpan.FromMilliseconds(milliseconds)));

    // ---- errors name the file, the line and the key -----------------------------------------------

    [Fact]
    public void BadDuration_NamesFileLineColumnAndKey()
    {
        var ex = Fails("schema_version: 1\n\n# timers\ntcp_inactivity_timeout: 5 minutes\n");
        Assert.Equal(Src, ex.FilePath);
        Assert.Equal(4, ex.Line);
        Assert.Equal(25, ex.Column);
        Assert.Equal("tcp_inactivity_timeout", ex.Key);
        Assert.Equal("conntrack.yaml:4:25: key 'tcp_inactivity_timeout': '5 minutes' is not a duration (use e.g. '5 min' or 300)", ex.Message);
    }

    [Fact]
    public void UnknownKey_IsAnError_WithDidYouMean()
    {
        var ex = Fails("schema_version: 1\ntcp_inactivity_timout: 5 min\n");
        Assert.Equal(2, ex.Line);
        Assert.Equal(1, ex.Column);
        Assert.Equal("tcp_inactivity_timout", ex.Key);
        Assert.Equal("conntrack.yaml:2:1: key 'tcp_inactivity_timout': unknown key (did you mean 'tcp_inactivity_timeout'?)", ex.Message);

        var far = Fails("colour: blue\n");
        Assert.Equal("conntrack.yaml:1:1: key 'colour': unknown key", far.Message);
    }

    [Fact]
    public void BadPortSpec_NamesTheItem()
    {
        var ex = Fails("likely_server_ports:\n  - 80/tcp\n  - 443/sctp\n");
        Assert.Equal((3, 5, "likely_server_ports"), (ex.Line, ex.Column, ex.Key));
        Assert.Contains("'443/sctp' is not a port like 80/tcp", ex.Message);
        Assert.StartsWith("conntrack.yaml:3:5: key 'likely_server_ports': ", ex.Message);

        var inMap = Fails("port_inactivity_timeouts:\n  99999/tcp: 1 hr\n");
        Assert.Equal((2, 3, "port_inactivity_timeouts"), (inMap.Line, inMap.Column, inMap.Key));
    }

    [Fact]
    public void BadCidr_NamesTheItem()
    {
        var ex = Fails("local_nets_add: [10.0.0.0/8, 10.0.0.0/33]\n");
        Assert.Equal((1, 30, "local_nets_add"), (ex.Line, ex.Column, ex.Key));
        Assert.Contains("'10.0.0.0/33' is not a network in CIDR form", ex.Message);
        Assert.Throws<ConnTrackConfigException>(() => Load("local_nets: [not-an-address/8]"));
        Assert.Throws<ConnTrackConfigException>(() => Load("local_nets: ['2001:db8::/129']"));
    }

    [Fact]
    public void MalformedYaml_GivesLineAndColumn()
    {
        var ex = Fails("schema_version: 1\nlocal_nets: [10.0.0.0/8\nmax_connections: 5\n");
        Assert.Null(ex.Key);
        Assert.True(ex.Line >= 2, ex.Message);
        Assert.StartsWith($"conntrack.yaml:{ex.Line}:{ex.Column}: malformed YAML: ", ex.Message);
        Assert.DoesNotContain("(Line:", ex.Message);
    }

    [Fact]
    public void DuplicateKeys_AreErrors()
    {
        var ex = Fails("max_connections: 5\nmax_connections: 6\n");
        Assert.Equal(2, ex.Line);
        var syn = Fails("tcp_SYN_timeout: 5 sec\ntcp_syn_timeout: 6 sec\n");
        Assert.Equal((2, "tcp_syn_timeout"), (syn.Line, syn.Key));
    }

    [Theory]
    [InlineData("schema_version: 2", 1, "schema_version")]
    [InlineData("max_connections: 0", 1, "max_connections")]
    [InlineData("max_timer_expires: many", 1, "max_timer_expires")]
    [InlineData("ignore_checksums: perhaps", 1, "ignore_checksums")]
    [InlineData("uid_seed: -1", 1, "uid_seed")]
    [InlineData("likely_server_ports: 80/tcp", 1, "likely_server_ports")]
    [InlineData("tcp_close_delay: [5 sec]", 1, "tcp_close_delay")]
    [InlineData("tcp_close_delay:", 1, "tcp_close_delay")]
    [InlineData("port_inactivity_timeouts: [21/tcp]", 1, "port_inactivity_timeouts")]
    public void WrongValues_AreErrorsNamingTheKey(string yaml, int line, string key)
    {
        var ex = Fails("\n" + yaml + "\n");
        Assert.Equal(line + 1, ex.Line);
        Assert.Equal(key, ex.Key);
        Assert.StartsWith($"conntrack.yaml:{line + 1}:", ex.Message);
    }

    [Fact]
    public void NonMappingRoot_IsAnError()
    {
        var ex = Fails("- a\n- b\n");
        Assert.Equal((1, 1), (ex.Line, ex.Column));
        Assert.Null(ex.Key);
    }

    [Fact]
    public void Load_FromFile_UsesThePathInMessages_AndMissingFileIsFileNotFound()
    {
        var path = Path.Combine(Path.GetTempPath(), "conntrack-" + Guid.NewGuid() + ".yaml");
        try
        {
            File.WriteAllText(path, "udp_inactivity_timeout: 2 min\n");
            Assert.Equal(TimeSpan.FromMinutes(2), ConnTrackConfigLoader.Load(path).UdpInactivityTimeout);
            File.WriteAllText(path, "udp_inactivity_timeout: soon\n");
            var ex = Assert.Throws<ConnTrackConfigException>(() => ConnTrackConfigLoader.Load(path));
            Assert.Equal(path, ex.FilePath);
            Assert.StartsWith(path + ":1:25: key 'udp_inactivity_timeout': ", ex.Message);
        }
        finally { File.Delete(path); }

        var missing = Assert.Throws<FileNotFoundException>(() => ConnTrackConfigLoader.Load(path));
        Assert.Equal(path, missing.FileName);
        Assert.Contains(path, missing.Message);
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Config;

/// <summary>
/// Writes ConnTrack YAML configurations that <see cref="ConnTrackConfigLoader"/> reads back: a commented
/// template with every key at Zeek's default (New-ConnTrackConfig), and the effective configuration of a
/// <see cref="ConnTrackOptions"/>.
/// </summary>
public static class ConnTrackConfigWriter
{
    private const int WrapColumn = 100;

    /// <summary>A commented configuration file with every key at its default (Zeek 9.1's).</summary>
    public static string Template() => Write(new ConnTrackOptions(), withComments: true);

    /// <summary>The effective configuration of <paramref name="options"/> as YAML that loads back to equal options.</summary>
    public static string ToYaml(ConnTrackOptions options) => Write(options, withComments: false);

    private static string Write(ConnTrackOptions o, bool withComments)
    {
        ArgumentNullException.ThrowIfNull(o);
        var w = new Emitter(withComments);
        if (withComments)
        {
            w.Raw("# ConnTrack configuration. Every key is optional: a key left out keeps its default, and the");
            w.Raw("# defaults are Zeek 9.1's (plain `zeek -r` with the default scripts), so conn.log matches Zeek's.");
            w.Raw("# Durations take Zeek's units (usec, msec, sec, min, hr, day; e.g. '5 min', '1.5 sec') or plain");
            w.Raw("# seconds (300). Ports are written as Zeek writes them: 80/tcp, 53/udp, 8/icmp.");
            w.Raw("");
        }

        w.Key("schema_version", SchemaVersionText(), "Version of this file's layout; this ConnTrack reads 1.");

        w.Section("Inactivity timeouts (init-bare.zeek): a connection idle this long is expired and logged.");
        w.Key("tcp_inactivity_timeout", D(o.TcpInactivityTimeout), "Idle TCP connections expire after this (Zeek: tcp_inactivity_timeout).");
        w.Key("udp_inactivity_timeout", D(o.UdpInactivityTimeout), "Idle UDP flows expire after this (Zeek: udp_inactivity_timeout).");
        w.Key("icmp_inactivity_timeout", D(o.IcmpInactivityTimeout), "Idle ICMP flows expire after this (Zeek: icmp_inactivity_timeout).");
        w.Key("unknown_ip_inactivity_timeout", D(o.UnknownIpInactivityTimeout), "Idle flows of other IP protocols expire after this (Zeek: unknown_ip_inactivity_timeout).");
        w.PortMap("port_inactivity_timeouts", o.PortInactivityTimeouts,
            "Per responder port, replacing the timeout above (base/protocols/conn/inactivity.zeek). This list replaces the defaults.");

        w.Section("TCP timers (init-bare.zeek).");
        w.Key("tcp_SYN_timeout", D(o.TcpSynTimeout), "An unanswered SYN-only connection is dropped after this (tcp_syn_timeout is accepted too).");
        w.Key("tcp_session_timer", D(o.TcpSessionTimer), "Delay of the expire check once a connection is closed or reset.");
        w.Key("tcp_connection_linger", D(o.TcpConnectionLinger), "How long a closed connection lingers after its last activity.");
        w.Key("tcp_attempt_delay", D(o.TcpAttemptDelay), "How long a connection attempt waits for an answer before it is judged.");
        w.Key("tcp_close_delay", D(o.TcpCloseDelay), "How long after both sides closed (FIN) the connection is removed.");
        w.Key("tcp_reset_delay", D(o.TcpResetDelay), "How long after a RST the connection is removed.");
        w.Key("tcp_partial_close_delay", D(o.TcpPartialCloseDelay), "How long after one side closed while the other is gone the connection is removed.");
        w.Key("max_timer_expires", o.MaxTimerExpires.ToString(CultureInfo.InvariantCulture), "At most this many timers expire per packet (Zeek: max_timer_expires); 0: no limit.");
        w.Key("dns_session_timeout", D(o.DnsSessionTimeout), "Zeek's DNS analyzer ends a UDP DNS connection after this much silence (dns_session_timeout); 0: never.");
        w.List("dns_analyzer_ports", o.DnsAnalyzerPorts.Order().Select(p => p.ToString(CultureInfo.InvariantCulture)).ToArray(),
            "UDP responder ports the DNS analyzer attaches to (its session timer applies there); [] as with zeek -b.");

        w.Section("Who is the server (likely_server_ports): a port here makes its endpoint the likely responder.");
        w.List("likely_server_ports", SortedPorts(o.LikelyServerPorts),
            "The whole set, replacing the default (every analyzer's well-known ports).");
        if (withComments)
        {
            w.List("likely_server_ports_add", Array.Empty<string>(), "Ports added to the set above (handier than repeating it).");
            w.List("likely_server_ports_remove", Array.Empty<string>(), "Ports removed from the set above.");
        }

        w.Section("Local networks (Site::local_nets): decide local_orig and local_resp; with none they are unset.");
        var (privateIsLocal, rest) = SplitLocalNets(o.LocalNets);
        w.Key("private_address_space_is_local", Bool(privateIsLocal),
            "Count Zeek's Site::private_address_space (RFC 1918, ULA, link-local, ...) as local.\nDefault: true, but false when local_nets is given (set it to true to keep both).");
        w.List("local_nets", rest.Select(n => n.ToString()).ToArray(),
            "Your local networks in CIDR form. Given while private_address_space_is_local is left out, they replace\n" +
            "the default list; with private_address_space_is_local: true they come after the private space.");
        if (withComments)
            w.List("local_nets_add", Array.Empty<string>(), "Networks added on top of the above.");

        w.Section("Engine.");
        w.Key("ignore_checksums", Bool(o.IgnoreChecksums), "Skip IP and transport checksum checks (Zeek: ignore_checksums); bad ones are otherwise dropped.");
        w.Key("memory_map_files", Bool(o.MemoryMapFiles), "true: read capture files in place (mapped) where a read lease makes it safe (Linux); often slower than the copy.");
        w.Key("vlan_aware_conn_key", Bool(o.VlanAwareConnKey), "Key connections by 5-tuple plus VLAN ids (Zeek's vlan_fivetuple conn key).");
        w.Key("max_connections", o.MaxConnections.ToString(CultureInfo.InvariantCulture), "The most connections tracked at once; new ones past it are dropped and counted.");
        w.Key("uid_seed", "0x" + o.UidSeed.ToString("X", CultureInfo.InvariantCulture), "Seed of the connection uids; the same seed and input give the same uids.");
        w.Key("capture_filter", o.CaptureFilter is null ? "null" : Quote(o.CaptureFilter), "A BPF filter applied to every packet, e.g. 'tcp port 80'; null: none.");
        w.Key("report_gaps_for_partial", Bool(o.ReportGapsForPartial), "Count content gaps (missed_bytes) on partial connections too (Zeek: report_gaps_for_partial).");
        w.Key("tcp_excessive_data_without_further_acks", o.TcpExcessiveDataWithoutFurtherAcks.ToString(CultureInfo.InvariantCulture),
            "Stop gap accounting for a side holding this many unacked bytes; 0: no limit (Zeek's option of the same name).");
        w.Key("use_conn_size_analyzer", Bool(o.UseConnSizeAnalyzer), "Fill the packet and IP-byte columns (Zeek: use_conn_size_analyzer).");
        return w.ToString();
    }

    private static string SchemaVersionText() => ConnTrackConfigLoader.SchemaVersion.ToString(CultureInfo.InvariantCulture);

    private static string D(TimeSpan t) => ZeekInterval.Format(t);

    private static string Bool(bool b) => b ? "true" : "false";

    private static string[] SortedPorts(IEnumerable<PortSpec> ports) =>
        ports.OrderBy(p => p.Proto).ThenBy(p => p.Port).Select(p => p.ToString()).ToArray();

    /// <summary>Whether the list starts with the whole private address space, and what follows it.</summary>
    private static (bool, List<IPNetwork>) SplitLocalNets(List<IPNetwork> nets)
    {
        var priv = ZeekDefaults.LocalNets();
        bool starts = nets.Count >= priv.Count;
        for (int i = 0; starts && i < priv.Count; i++) starts = nets[i].Equals(priv[i]);
        return starts ? (true, nets.Skip(priv.Count).ToList()) : (false, nets.ToList());
    }

    /// <summary>A YAML double-quoted scalar.</summary>
    private static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static string ListItem(string item) =>
        item.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-') ? item : "'" + item.Replace("'", "''") + "'";

    private sealed class Emitter
    {
        private readonly StringBuilder _sb = new();
        private readonly bool _comments;

        public Emitter(bool comments) { _comments = comments; }

        public void Raw(string line) => _sb.Append(line).Append('\n');

        public void Section(string title)
        {
            if (!_comments) return;
            Raw("");
            Raw("# --- " + title);
        }

        private void Comment(string text)
        {
            if (!_comments) return;
            foreach (var line in text.Split('\n')) Raw("# " + line);
        }

        public void Key(string key, string value, string comment)
        {
            Comment(comment);
            Raw(key + ": " + value);
        }

        public void List(string key, IReadOnlyList<string> items, string comment)
        {
            Comment(comment);
            if (items.Count == 0) { Raw(key + ": []"); return; }
            var line = new StringBuilder(key + ": [");
            bool lineStart = true;
            for (int i = 0; i < items.Count; i++)
            {
                var text = ListItem(items[i]) + (i + 1 < items.Count ? "," : "]");
                if (!lineStart && line.Length + 1 + text.Length > WrapColumn)
                {
                    Raw(line.ToString());
                    line.Clear().Append("  ");
                    lineStart = true;
                }
                if (!lineStart) line.Append(' ');
                line.Append(text);
                lineStart = false;
            }
            Raw(line.ToString());
        }

        public void PortMap(string key, Dictionary<PortSpec, TimeSpan> map, string comment)
        {
            Comment(comment);
            if (map.Count == 0) { Raw(key + ": {}"); return; }
            Raw(key + ":");
            foreach (var (port, t) in map.OrderBy(kv => kv.Key.Proto).ThenBy(kv => kv.Key.Port))
                Raw("  " + port + ": " + ZeekInterval.Format(t));
        }

        public override string ToString() => _sb.ToString();
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConnTrack.Engine.Config;

/// <summary>
/// Reads a ConnTrack YAML configuration (schema_version 1) into <see cref="ConnTrackOptions"/>: it starts from
/// the defaults (Zeek's) and overrides what the file sets. Keys are snake_case, with Zeek's names where Zeek
/// has one. Every problem is a <see cref="ConnTrackConfigException"/> naming the file, line, column and key.
/// </summary>
public static class ConnTrackConfigLoader
{
    public const int SchemaVersion = 1;

    /// <summary>Every top-level key the schema knows (tcp_syn_timeout is also accepted for tcp_SYN_timeout).</summary>
    public static readonly string[] Keys =
    {
        "schema_version",
        "tcp_inactivity_timeout", "udp_inactivity_timeout", "icmp_inactivity_timeout", "unknown_ip_inactivity_timeout",
        "tcp_SYN_timeout", "tcp_session_timer", "tcp_connection_linger", "tcp_attempt_delay", "tcp_close_delay",
        "tcp_reset_delay", "tcp_partial_close_delay", "port_inactivity_timeouts", "max_timer_expires",
        "likely_server_ports", "likely_server_ports_add", "likely_server_ports_remove",
        "local_nets", "local_nets_add", "private_address_space_is_local",
        "ignore_checksums", "memory_map_files", "vlan_aware_conn_key", "max_connections", "uid_seed", "capture_filter",
        "dns_session_timeout", "dns_analyzer_ports", "report_gaps_for_partial",
        "tcp_excessive_data_without_further_acks", "use_conn_size_analyzer",
    };

    private const string SynAlias = "tcp_syn_timeout";

    public static ConnTrackOptions Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The ConnTrack configuration file '{path}' was not found.", path);
        return LoadFromText(File.ReadAllText(path), path);
    }

    public static ConnTrackOptions LoadFromText(string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(yaml));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException ex)
        {
            throw new ConnTrackConfigException(sourceName, (int)ex.Start.Line, (int)ex.Start.Column, null,
                "malformed YAML: " + YamlProblem(ex), ex);
        }
        catch (InvalidOperationException ex)
        {
            // Some malformed input trips YamlDotNet's scanner without a YamlException; report where it stopped.
            var at = scanner.CurrentPosition;
            throw new ConnTrackConfigException(sourceName, (int)at.Line, (int)at.Column, null,
                "malformed YAML: unexpected text here (an unclosed [ or {, or a stray character?)", ex);
        }

        var options = new ConnTrackOptions();
        if (stream.Documents.Count == 0) return options;
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            throw Error(sourceName, second, null, "the file holds more than one YAML document; keep one");
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode s0 && IsNull(s0)) return options;
        if (root is not YamlMappingNode map)
            throw Error(sourceName, root, null, "the configuration must be a mapping of keys to values (key: value)");

        new Reader(sourceName, options).Apply(map);
        return options;
    }

    private static string YamlProblem(YamlException ex)
    {
        // YamlDotNet prefixes its messages with "(Line: a, Col: b, Idx: c) - (Line: ...): "; our prefix says that.
        var msg = ex.Message;
        int cut = msg.IndexOf("): ", StringComparison.Ordinal);
        if (msg.StartsWith("(Line:", StringComparison.Ordinal) && cut >= 0) msg = msg[(cut + 3)..];
        return msg;
    }

    private static ConnTrackConfigException Error(string source, YamlNode node, string? key, string problem) =>
        new(source, (int)node.Start.Line, (int)node.Start.Column, key, problem);

    private static bool IsNull(YamlScalarNode s) =>
        s.Style == ScalarStyle.Plain && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    /// <summary>The closest known key when it is close enough to be a likely typo, else null.</summary>
    internal static string? DidYouMean(string key)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var k in Keys.Append(SynAlias))
        {
            int d = Distance(key.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = k; }
        }
        int allowed = Math.Max(2, key.Length / 4);
        if (best == SynAlias) best = "tcp_SYN_timeout";
        return bestDistance <= allowed ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>Parses a CIDR the way Zeek reads a subnet: host bits are masked off; a bare address is a host network.</summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        int slash = t.IndexOf('/');
        var addrText = slash < 0 ? t : t[..slash];
        if (!IPAddress.TryParse(addrText, out var addr)) return false;
        if (addr.AddressFamily == AddressFamily.InterNetworkV6 && addr.ScopeId != 0) return false;
        int max = addr.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int prefix = max;
        if (slash >= 0 && (!int.TryParse(t.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
                           || prefix > max))
            return false;
        var bytes = addr.GetAddressBytes();
        for (int bit = prefix; bit < max; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        network = new IPNetwork(new IPAddress(bytes), prefix);
        return true;
    }

    private sealed class Reader
    {
        private readonly string _source;
        private readonly ConnTrackOptions _o;
        private List<IPNetwork>? _localNets;
        private List<IPNetwork>? _localNetsAdd;
        private bool? _privateIsLocal;
        private HashSet<PortSpec>? _lspReplace;
        private List<PortSpec>? _lspAdd;
        private List<PortSpec>? _lspRemove;

        public Reader(string source, ConnTrackOptions options) { _source = source; _o = options; }

        public void Apply(YamlMappingNode map)
        {
            YamlNode? synSeen = null;
            foreach (var (keyNode, value) in map.Children)
            {
                if (keyNode is not YamlScalarNode ks || ks.Value is null)
                    throw Error(_source, keyNode, null, "keys must be plain names such as tcp_inactivity_timeout");
                var key = ks.Value;
                if (key is "tcp_SYN_timeout" or SynAlias)
                {
                    if (synSeen is not null)
                        throw Error(_source, keyNode, key, "tcp_SYN_timeout is given twice (tcp_syn_timeout is the same key)");
                    synSeen = keyNode;
                }
                ApplyKey(keyNode, key, value);
            }

            if (_lspReplace is not null) _o.LikelyServerPorts = _lspReplace;
            if (_lspAdd is not null) foreach (var p in _lspAdd) _o.LikelyServerPorts.Add(p);
            if (_lspRemove is not null) foreach (var p in _lspRemove) _o.LikelyServerPorts.Remove(p);

            if (_localNets is not null || _privateIsLocal is not null || _localNetsAdd is not null)
            {
                // local_nets replaces the default list (the private address space); private_address_space_is_local
                // adds that space in front (default: yes unless local_nets is given); local_nets_add comes on top.
                var nets = new List<IPNetwork>();
                bool addPrivate = _privateIsLocal ?? (_localNets is null);
                if (addPrivate) nets.AddRange(ZeekDefaults.LocalNets());
                if (_localNets is not null) nets.AddRange(_localNets);
                if (_localNetsAdd is not null) nets.AddRange(_localNetsAdd);
                var seen = new HashSet<IPNetwork>();
                _o.LocalNets = nets.Where(seen.Add).ToList();
            }
        }

        private void ApplyKey(YamlNode keyNode, string key, YamlNode v)
        {
            switch (key)
            {
                case "schema_version":
                    var version = Integer(key, v, 0, int.MaxValue);
                    if (version != SchemaVersion)
                        throw Error(_source, v, key, $"schema_version {version} is not supported; this ConnTrack reads schema_version {SchemaVersion}");
                    break;
                case "tcp_inactivity_timeout": _o.TcpInactivityTimeout = Duration(key, v); break;
                case "udp_inactivity_timeout": _o.UdpInactivityTimeout = Duration(key, v); break;
                case "icmp_inactivity_timeout": _o.IcmpInactivityTimeout = Duration(key, v); break;
                case "unknown_ip_inactivity_timeout": _o.UnknownIpInactivityTimeout = Duration(key, v); break;
                case "tcp_SYN_timeout":
                case SynAlias: _o.TcpSynTimeout = Duration(key, v); break;
                case "tcp_session_timer": _o.TcpSessionTimer = Duration(key, v); break;
                case "tcp_connection_linger": _o.TcpConnectionLinger = Duration(key, v); break;
                case "tcp_attempt_delay": _o.TcpAttemptDelay = Duration(key, v); break;
                case "tcp_close_delay": _o.TcpCloseDelay = Duration(key, v); break;
                case "tcp_reset_delay": _o.TcpResetDelay = Duration(key, v); break;
                case "tcp_partial_close_delay": _o.TcpPartialCloseDelay = Duration(key, v); break;
                case "port_inactivity_timeouts": _o.PortInactivityTimeouts = PortDurations(key, v); break;
                case "max_timer_expires": _o.MaxTimerExpires = (int)Integer(key, v, 0, int.MaxValue); break;
                case "likely_server_ports": _lspReplace = Ports(key, v).ToHashSet(); break;
                case "likely_server_ports_add": _lspAdd = Ports(key, v); break;
                case "likely_server_ports_remove": _lspRemove = Ports(key, v); break;
                case "local_nets": _localNets = Networks(key, v); break;
                case "local_nets_add": _localNetsAdd = Networks(key, v); break;
                case "private_address_space_is_local": _privateIsLocal = Bool(key, v); break;
                case "ignore_checksums": _o.IgnoreChecksums = Bool(key, v); break;
                case "memory_map_files": _o.MemoryMapFiles = Bool(key, v); break;
                case "vlan_aware_conn_key": _o.VlanAwareConnKey = Bool(key, v); break;
                case "max_connections": _o.MaxConnections = (int)Integer(key, v, 1, int.MaxValue); break;
                case "uid_seed": _o.UidSeed = UidSeed(key, v); break;
                case "dns_session_timeout": _o.DnsSessionTimeout = Duration(key, v); break;
                case "dns_analyzer_ports": _o.DnsAnalyzerPorts = UdpPorts(key, v); break;
                case "report_gaps_for_partial": _o.ReportGapsForPartial = Bool(key, v); break;
                case "tcp_excessive_data_without_further_acks":
                    _o.TcpExcessiveDataWithoutFurtherAcks = Integer(key, v, 0, long.MaxValue);
                    break;
                case "use_conn_size_analyzer": _o.UseConnSizeAnalyzer = Bool(key, v); break;
                case "capture_filter":
                    var filter = Scalar(key, v, allowNull: true);
                    _o.CaptureFilter = string.IsNullOrWhiteSpace(filter) ? null : filter;
                    break;
                default:
                    var guess = DidYouMean(key);
                    throw Error(_source, keyNode, key,
                        guess is null ? "unknown key" : $"unknown key (did you mean '{guess}'?)");
            }
        }

        private string? Scalar(string key, YamlNode v, bool allowNull = false)
        {
            if (v is not YamlScalarNode s)
                throw Error(_source, v, key, "expects a single value, not a list or a mapping");
            if (IsNull(s))
            {
                if (allowNull) return null;
                throw Error(_source, v, key, "has no value");
            }
            return s.Value;
        }

        private TimeSpan Duration(string key, YamlNode v)
        {
            var text = Scalar(key, v)!;
            if (!ZeekInterval.TryParse(text, out var d))
                throw Error(_source, v, key, $"'{text}' is not a duration (use e.g. '5 min' or 300)");
            return d;
        }

        private long Integer(string key, YamlNode v, long min, long max)
        {
            var text = Scalar(key, v)!.Trim().Replace("_", "");
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                throw Error(_source, v, key, $"'{text}' is not a whole number");
            if (n < min || n > max)
                throw Error(_source, v, key, $"{n} is out of range ({min} to {max})");
            return n;
        }

        private bool Bool(string key, YamlNode v)
        {
            var text = Scalar(key, v)!.Trim();
            return text.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" or "t" => true,
                "false" or "no" or "off" or "f" => false,
                _ => throw Error(_source, v, key, $"'{text}' is not a boolean (use true or false)"),
            };
        }

        private ulong UidSeed(string key, YamlNode v)
        {
            var text = Scalar(key, v)!.Trim().Replace("_", "");
            bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var seed)
                : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seed);
            if (!ok) throw Error(_source, v, key, $"'{text}' is not an unsigned 64-bit number (decimal, or hex as 0x...)");
            return seed;
        }

        private IEnumerable<YamlScalarNode> Items(string key, YamlNode v, string example)
        {
            if (v is YamlScalarNode s && IsNull(s)) yield break;
            if (v is not YamlSequenceNode seq)
                throw Error(_source, v, key, $"expects a list, e.g. {example}");
            foreach (var item in seq.Children)
            {
                if (item is not YamlScalarNode si || IsNull(si))
                    throw Error(_source, item, key, $"each list item must be a single value, e.g. {example}");
                yield return si;
            }
        }

        private List<PortSpec> Ports(string key, YamlNode v)
        {
            var list = new List<PortSpec>();
            foreach (var item in Items(key, v, "[80/tcp, 53/udp]"))
            {
                if (!PortSpec.TryParse(item.Value, out var spec))
                    throw Error(_source, item, key, $"'{item.Value}' is not a port like 80/tcp, 53/udp or 8/icmp");
                list.Add(spec);
            }
            return list;
        }

        private HashSet<ushort> UdpPorts(string key, YamlNode v)
        {
            var set = new HashSet<ushort>();
            foreach (var item in Items(key, v, "[53, 5353]"))
            {
                if (!ushort.TryParse(item.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                    throw Error(_source, item, key, $"'{item.Value}' is not a port number (0 to 65535)");
                set.Add(port);
            }
            return set;
        }

        private List<IPNetwork> Networks(string key, YamlNode v)
        {
            var list = new List<IPNetwork>();
            foreach (var item in Items(key, v, "['10.0.0.0/8', '2001:db8::/32']"))
            {
                if (!TryParseNetwork(item.Value, out var net))
                    throw Error(_source, item, key, $"'{item.Value}' is not a network in CIDR form like 10.0.0.0/8 or 2001:db8::/32");
                list.Add(net);
            }
            return list;
        }

        private Dictionary<PortSpec, TimeSpan> PortDurations(string key, YamlNode v)
        {
            var result = new Dictionary<PortSpec, TimeSpan>();
            if (v is YamlScalarNode s && IsNull(s)) return result;
            if (v is not YamlMappingNode map)
                throw Error(_source, v, key, "expects a mapping of port to duration, e.g. { 21/tcp: 1 hr }");
            foreach (var (pk, pv) in map.Children)
            {
                if (pk is not YamlScalarNode ps || !PortSpec.TryParse(ps.Value, out var spec))
                    throw Error(_source, pk, key, $"'{(pk as YamlScalarNode)?.Value}' is not a port like 80/tcp, 53/udp or 8/icmp");
                result[spec] = Duration(key, pv);
            }
            return result;
        }
    }
}

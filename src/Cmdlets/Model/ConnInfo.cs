using System.Net;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;

namespace ConnTrack.Model;

/// <summary>
/// One connection as PowerShell sees it: the fields of Zeek's conn.log under Zeek's own names, typed for the
/// pipeline. Times are UTC <see cref="DateTime"/>s, addresses <see cref="IPAddress"/>es, ports and counts
/// numbers (so -eq/-gt and Sort-Object compare numerically), durations seconds as a <see cref="double"/> (so
/// <c>Where duration -gt 10</c> means ten seconds). Fields Zeek leaves unset ('-') are null.
/// </summary>
public sealed class ConnInfo
{
    /// <summary>Time of the first packet (UTC).</summary>
    public DateTime ts { get; set; }
    public string uid { get; set; } = "";
    public IPAddress orig_h { get; set; } = IPAddress.None;
    public int orig_p { get; set; }
    public IPAddress resp_h { get; set; } = IPAddress.None;
    public int resp_p { get; set; }
    /// <summary>tcp, udp, icmp or unknown_transport.</summary>
    public string proto { get; set; } = "";
    public string? service { get; set; }
    /// <summary>Seconds from the first to the last packet.</summary>
    public double? duration { get; set; }
    public long? orig_bytes { get; set; }
    public long? resp_bytes { get; set; }
    public string? conn_state { get; set; }
    public bool? local_orig { get; set; }
    public bool? local_resp { get; set; }
    public long missed_bytes { get; set; }
    public string? history { get; set; }
    public long? orig_pkts { get; set; }
    public long? orig_ip_bytes { get; set; }
    public long? resp_pkts { get; set; }
    public long? resp_ip_bytes { get; set; }
    /// <summary>uids of the encapsulating connections; null when not tunnelled.</summary>
    public ZeekSet? tunnel_parents { get; set; }
    /// <summary>The IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmp6, ...).</summary>
    public int ip_proto { get; set; }

    /// <summary>The conn.log field names in Zeek's column order.</summary>
    public static readonly string[] FieldNames =
    [
        "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "proto", "service", "duration", "orig_bytes",
        "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts",
        "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto",
    ];

    private const long TicksPerNs = 100;

    public static ConnInfo FromRecord(ConnRecord r) => new()
    {
        ts = DateTime.UnixEpoch.AddTicks(r.Ts / TicksPerNs),
        uid = r.Uid,
        orig_h = r.OrigH.ToIPAddress(),
        orig_p = r.OrigP,
        resp_h = r.RespH.ToIPAddress(),
        resp_p = r.RespP,
        proto = r.Proto.ToZeekName(),
        service = r.Service,
        duration = r.Duration is long d ? d / 1e9 : null,
        orig_bytes = ToLong(r.OrigBytes),
        resp_bytes = ToLong(r.RespBytes),
        conn_state = r.ConnState,
        local_orig = r.LocalOrig,
        local_resp = r.LocalResp,
        missed_bytes = (long)Math.Min(r.MissedBytes, long.MaxValue),
        history = r.History,
        orig_pkts = ToLong(r.OrigPkts),
        orig_ip_bytes = ToLong(r.OrigIpBytes),
        resp_pkts = ToLong(r.RespPkts),
        resp_ip_bytes = ToLong(r.RespIpBytes),
        tunnel_parents = r.TunnelParents is { } t ? new ZeekSet(t) : null,
        ip_proto = r.IpProto,
    };

    /// <summary>The engine record again (for the engine's log writers).</summary>
    public ConnRecord ToRecord() => new()
    {
        Ts = (ts.ToUniversalTime() - DateTime.UnixEpoch).Ticks * TicksPerNs,
        Uid = uid,
        OrigH = IPAddr128.FromIPAddress(orig_h),
        OrigP = (ushort)orig_p,
        RespH = IPAddr128.FromIPAddress(resp_h),
        RespP = (ushort)resp_p,
        Proto = proto switch
        {
            "tcp" => TransportProto.Tcp,
            "udp" => TransportProto.Udp,
            "icmp" => TransportProto.Icmp,
            _ => TransportProto.Unknown,
        },
        Service = service,
        Duration = duration is double d ? (long)Math.Round(d * 1e9) : null,
        OrigBytes = ToULong(orig_bytes),
        RespBytes = ToULong(resp_bytes),
        ConnState = conn_state,
        LocalOrig = local_orig,
        LocalResp = local_resp,
        MissedBytes = (ulong)Math.Max(0, missed_bytes),
        History = history,
        OrigPkts = ToULong(orig_pkts),
        OrigIpBytes = ToULong(orig_ip_bytes),
        RespPkts = ToULong(resp_pkts),
        RespIpBytes = ToULong(resp_ip_bytes),
        TunnelParents = tunnel_parents?.ToArray(),
        IpProto = ip_proto,
    };

    public override string ToString() => $"{uid} {orig_h}:{orig_p} -> {resp_h}:{resp_p} {proto} {conn_state}";

    private static long? ToLong(ulong? v) => v is ulong x ? (long)Math.Min(x, long.MaxValue) : null;
    private static ulong? ToULong(long? v) => v is long x ? (ulong)Math.Max(0, x) : null;
}

/// <summary>
/// A Zeek set of strings (tunnel_parents). Enumerates like an array, and prints as Zeek writes it
/// (comma-separated), so Export-Csv gives a readable column rather than a type name.
/// </summary>
public sealed class ZeekSet : System.Collections.ObjectModel.ReadOnlyCollection<string>
{
    public ZeekSet(IList<string> items) : base(items) { }
    public override string ToString() => string.Join(",", this);
}

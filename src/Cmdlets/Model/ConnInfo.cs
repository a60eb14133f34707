using System.Net;
using ConnTrack.Engine.Records;

namespace ConnTrack.Model;

// MINIMAL PLACEHOLDER written by the live-capture helper so Watch-ConnInterface can emit objects before the module
// helper's ConnInfo is merged. On merge, take the module helper's version of this file; the live cmdlet only
// needs ConnInfo.FromRecord(ConnRecord).

/// <summary>One connection with Zeek conn.log's field names and meanings.</summary>
public sealed class ConnInfo
{
    public DateTime ts { get; init; }
    public string uid { get; init; } = "";
    public IPAddress orig_h { get; init; } = IPAddress.None;
    public int orig_p { get; init; }
    public IPAddress resp_h { get; init; } = IPAddress.None;
    public int resp_p { get; init; }
    public string proto { get; init; } = "";
    public string? service { get; init; }
    public TimeSpan? duration { get; init; }
    public ulong? orig_bytes { get; init; }
    public ulong? resp_bytes { get; init; }
    public string? conn_state { get; init; }
    public bool? local_orig { get; init; }
    public bool? local_resp { get; init; }
    public ulong missed_bytes { get; init; }
    public string? history { get; init; }
    public ulong? orig_pkts { get; init; }
    public ulong? orig_ip_bytes { get; init; }
    public ulong? resp_pkts { get; init; }
    public ulong? resp_ip_bytes { get; init; }
    public string[]? tunnel_parents { get; init; }
    public int ip_proto { get; init; }

    public static ConnInfo FromRecord(ConnRecord r) => new()
    {
        ts = DateTime.UnixEpoch.AddTicks(r.Ts / 100),
        uid = r.Uid,
        orig_h = r.OrigH.ToIPAddress(),
        orig_p = r.OrigP,
        resp_h = r.RespH.ToIPAddress(),
        resp_p = r.RespP,
        proto = r.Proto.ToZeekName(),
        service = r.Service,
        duration = r.Duration is long d ? TimeSpan.FromTicks(d / 100) : null,
        orig_bytes = r.OrigBytes,
        resp_bytes = r.RespBytes,
        conn_state = r.ConnState,
        local_orig = r.LocalOrig,
        local_resp = r.LocalResp,
        missed_bytes = r.MissedBytes,
        history = r.History,
        orig_pkts = r.OrigPkts,
        orig_ip_bytes = r.OrigIpBytes,
        resp_pkts = r.RespPkts,
        resp_ip_bytes = r.RespIpBytes,
        tunnel_parents = r.TunnelParents,
        ip_proto = r.IpProto,
    };
}

using System.Globalization;
using ConnTrack.Engine.Records;

namespace ConnTrack.Conformance;

/// <summary>
/// Our record's fields as Zeek's ASCII writer writes them in conn.log: times and intervals with 6 decimals,
/// T/F, '-' for unset, '(empty)' for an empty string or set. (Stands in for the records helper's
/// ZeekFieldFormat until that is on main.)
/// </summary>
public static class ConnFieldText
{
    public const string Unset = "-";
    public const string Empty = "(empty)";

    /// <summary>The field's text, or null for a column this engine does not produce.</summary>
    public static string? Format(ConnRecord r, string field) => field switch
    {
        "ts" => Seconds(r.Ts),
        "uid" => Str(r.Uid),
        "id.orig_h" => r.OrigH.ToString(),
        "id.orig_p" => r.OrigP.ToString(CultureInfo.InvariantCulture),
        "id.resp_h" => r.RespH.ToString(),
        "id.resp_p" => r.RespP.ToString(CultureInfo.InvariantCulture),
        "proto" => r.Proto.ToZeekName(),
        "service" => Str(r.Service),
        "duration" => r.Duration is { } d ? Seconds(d) : Unset,
        "orig_bytes" => Count(r.OrigBytes),
        "resp_bytes" => Count(r.RespBytes),
        "conn_state" => Str(r.ConnState),
        "local_orig" => Bool(r.LocalOrig),
        "local_resp" => Bool(r.LocalResp),
        "missed_bytes" => Count(r.MissedBytes),
        "history" => Str(r.History),
        "orig_pkts" => Count(r.OrigPkts),
        "orig_ip_bytes" => Count(r.OrigIpBytes),
        "resp_pkts" => Count(r.RespPkts),
        "resp_ip_bytes" => Count(r.RespIpBytes),
        "tunnel_parents" => Set(r.TunnelParents),
        "ip_proto" => r.IpProto.ToString(CultureInfo.InvariantCulture),
        "vlan" or "id.ctx.vlan" => r.Vlan is { } v ? v.ToString(CultureInfo.InvariantCulture) : Unset,
        "inner_vlan" or "id.ctx.inner_vlan" => r.InnerVlan is { } iv ? iv.ToString(CultureInfo.InvariantCulture) : Unset,
        _ => null,
    };

    /// <summary>Nanoseconds since the epoch (or a span) as Zeek's %.6f seconds, rounded half up to the microsecond.</summary>
    public static string Seconds(long nanos)
    {
        var negative = nanos < 0;
        var abs = negative ? -(decimal)nanos : nanos;
        var micros = decimal.Floor((abs + 500m) / 1000m);
        var whole = decimal.Floor(micros / 1_000_000m);
        var frac = micros - whole * 1_000_000m;
        return (negative ? "-" : "") + whole.ToString(CultureInfo.InvariantCulture) + "." + ((long)frac).ToString("D6", CultureInfo.InvariantCulture);
    }

    private static string Str(string? s) => s is null ? Unset : ZeekLogReader.EscapeString(s);
    private static string Count(ulong? n) => n is { } v ? v.ToString(CultureInfo.InvariantCulture) : Unset;
    private static string Bool(bool? b) => b is { } v ? (v ? "T" : "F") : Unset;

    private static string Set(string[]? items)
    {
        if (items is null) return Unset;
        if (items.Length == 0) return Empty;
        return string.Join(',', items.Select(i => ZeekLogReader.EscapeString(i).Replace(",", "\\x2c", StringComparison.Ordinal)));
    }
}

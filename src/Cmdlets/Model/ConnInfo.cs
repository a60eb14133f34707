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
    // The engine's record holds the values; the properties convert on the way in and out. So writing a
    // connection to the pipeline makes one small object, and an address becomes an IPAddress only when read.
    private readonly ConnRecord _record;
    private IPAddress? _origH, _respH;
    private ZeekSet? _tunnelParents;

    /// <summary>An empty connection (every count unset), for building one field by field.</summary>
    public ConnInfo() : this(new ConnRecord()) { }

    private ConnInfo(ConnRecord record) => _record = record;

    /// <summary>Time of the first packet (UTC).</summary>
    public DateTime ts
    {
        get => DateTime.UnixEpoch.AddTicks(_record.Ts / TicksPerNs);
        set => _record.Ts = (value.ToUniversalTime() - DateTime.UnixEpoch).Ticks * TicksPerNs;
    }

    public string uid
    {
        get => _record.Uid;
        set => _record.Uid = value ?? "";
    }

    public IPAddress orig_h
    {
        get => _origH ??= _record.OrigH.ToIPAddress();
        set => _record.OrigH = IPAddr128.FromIPAddress(_origH = value ?? throw new ArgumentNullException(nameof(orig_h)));
    }

    public int orig_p
    {
        get => _record.OrigP;
        set => _record.OrigP = Port(value, nameof(orig_p));
    }

    public IPAddress resp_h
    {
        get => _respH ??= _record.RespH.ToIPAddress();
        set => _record.RespH = IPAddr128.FromIPAddress(_respH = value ?? throw new ArgumentNullException(nameof(resp_h)));
    }

    public int resp_p
    {
        get => _record.RespP;
        set => _record.RespP = Port(value, nameof(resp_p));
    }

    /// <summary>tcp, udp, icmp or unknown_transport.</summary>
    public string proto
    {
        get => _record.Proto.ToZeekName();
        set => _record.Proto = value switch
        {
            "tcp" => TransportProto.Tcp,
            "udp" => TransportProto.Udp,
            "icmp" => TransportProto.Icmp,
            _ => TransportProto.Unknown,
        };
    }

    public string? service
    {
        get => _record.Service;
        set => _record.Service = value;
    }

    /// <summary>Seconds from the first to the last packet.</summary>
    public double? duration
    {
        get => _record.Duration is long d ? d / 1e9 : null;
        set => _record.Duration = value is double d ? (long)Math.Round(Seconds(d, nameof(duration)) * 1e9) : null;
    }

    public long? orig_bytes
    {
        get => ToLong(_record.OrigBytes);
        set => _record.OrigBytes = ToULong(value, nameof(orig_bytes));
    }

    public long? resp_bytes
    {
        get => ToLong(_record.RespBytes);
        set => _record.RespBytes = ToULong(value, nameof(resp_bytes));
    }

    public string? conn_state
    {
        get => _record.ConnState;
        set => _record.ConnState = value;
    }

    public bool? local_orig
    {
        get => _record.LocalOrig;
        set => _record.LocalOrig = value;
    }

    public bool? local_resp
    {
        get => _record.LocalResp;
        set => _record.LocalResp = value;
    }

    public long missed_bytes
    {
        get => (long)Math.Min(_record.MissedBytes, long.MaxValue);
        set => _record.MissedBytes = (ulong)Count(value, nameof(missed_bytes));
    }

    public string? history
    {
        get => _record.History;
        set => _record.History = value;
    }

    public long? orig_pkts
    {
        get => ToLong(_record.OrigPkts);
        set => _record.OrigPkts = ToULong(value, nameof(orig_pkts));
    }

    public long? orig_ip_bytes
    {
        get => ToLong(_record.OrigIpBytes);
        set => _record.OrigIpBytes = ToULong(value, nameof(orig_ip_bytes));
    }

    public long? resp_pkts
    {
        get => ToLong(_record.RespPkts);
        set => _record.RespPkts = ToULong(value, nameof(resp_pkts));
    }

    public long? resp_ip_bytes
    {
        get => ToLong(_record.RespIpBytes);
        set => _record.RespIpBytes = ToULong(value, nameof(resp_ip_bytes));
    }

    /// <summary>uids of the encapsulating connections; null when not tunnelled.</summary>
    public ZeekSet? tunnel_parents
    {
        get => _tunnelParents ??= _record.TunnelParents is { } t ? new ZeekSet(t) : null;
        set => _record.TunnelParents = (_tunnelParents = value)?.ToArray();
    }

    /// <summary>The IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmp6, ...).</summary>
    public int ip_proto
    {
        get => _record.IpProto;
        set => _record.IpProto = value;
    }

    /// <summary>The conn.log field names in Zeek's column order.</summary>
    public static readonly string[] FieldNames =
    [
        "ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "proto", "service", "duration", "orig_bytes",
        "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts",
        "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto",
    ];

    private const long TicksPerNs = 100;

    /// <summary>The connection of an engine record (which it keeps: the record must not change afterwards).</summary>
    public static ConnInfo FromRecord(ConnRecord r) => new(r ?? throw new ArgumentNullException(nameof(r)));

    /// <summary>The engine record of this connection (a copy: changing it leaves this object as it is).</summary>
    public ConnRecord ToRecord() => _record.Clone();

    public override string ToString() => $"{uid} {orig_h}:{orig_p} -> {resp_h}:{resp_p} {proto} {conn_state}";

    private static long? ToLong(ulong? v) => v is ulong x ? (long)Math.Min(x, long.MaxValue) : null;

    private static ulong? ToULong(long? v, string field) => v is long x ? (ulong)Count(x, field) : null;

    private static T Count<T>(T value, string field) where T : System.Numerics.INumber<T> =>
        T.IsNegative(value) ? throw new ArgumentOutOfRangeException(field, value, $"{field} cannot be negative.") : value;

    private static double Seconds(double value, string field) =>
        double.IsFinite(value) && value >= 0 && value * 1e9 < long.MaxValue ? value
            : throw new ArgumentOutOfRangeException(field, value, $"{field} must be a number of seconds, 0 or more.");

    private static ushort Port(int value, string field) =>
        value is >= 0 and <= ushort.MaxValue ? (ushort)value
            : throw new ArgumentOutOfRangeException(field, value, $"{field} must be a port number, 0 to 65535.");
}

public sealed class ZeekSet : System.Collections.ObjectModel.ReadOnlyCollection<string>
{
    public ZeekSet(IList<string> items) : base(items) { }
    public override string ToString() => string.Join(",", this);
}

using System.Globalization;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Records;

/// <summary>Turns conn.log rows read by <see cref="ZeekLogReader"/> into <see cref="ConnRecord"/>s.</summary>
public static class ZeekConnRowMapper
{
    /// <summary>
    /// Maps the conn.log columns the row has; absent, unset ('-') and masked (XXXXXXXXXX.XXXXXX) fields keep
    /// the record's default (null for optional fields, 0 for ts). Zeek's vlan/inner_vlan columns and the
    /// VLAN-aware key's id.ctx.vlan/id.ctx.inner_vlan both fill Vlan/InnerVlan.
    /// Throws <see cref="FormatException"/> naming the column and line for a value that does not parse.
    /// </summary>
    public static ConnRecord ToConnRecord(this ZeekLogRow row)
    {
        var r = new ConnRecord();
        if (Usable(row, "ts")) r.Ts = ParseSecondsToNanos(row, "ts");
        r.Uid = row.GetValue("uid") ?? "";
        if (Usable(row, "id.orig_h")) r.OrigH = ParseAddr(row, "id.orig_h");
        if (Usable(row, "id.orig_p")) r.OrigP = ParsePort(row, "id.orig_p");
        if (Usable(row, "id.resp_h")) r.RespH = ParseAddr(row, "id.resp_h");
        if (Usable(row, "id.resp_p")) r.RespP = ParsePort(row, "id.resp_p");
        if (Usable(row, "proto")) r.Proto = ParseProto(row, "proto");
        r.Service = row.GetValue("service");
        if (Usable(row, "duration")) r.Duration = ParseSecondsToNanos(row, "duration");
        r.OrigBytes = Count(row, "orig_bytes");
        r.RespBytes = Count(row, "resp_bytes");
        r.ConnState = row.GetValue("conn_state");
        r.LocalOrig = Bool(row, "local_orig");
        r.LocalResp = Bool(row, "local_resp");
        r.MissedBytes = Count(row, "missed_bytes") ?? 0;
        r.History = row.GetValue("history");
        r.OrigPkts = Count(row, "orig_pkts");
        r.OrigIpBytes = Count(row, "orig_ip_bytes");
        r.RespPkts = Count(row, "resp_pkts");
        r.RespIpBytes = Count(row, "resp_ip_bytes");
        r.TunnelParents = row.GetSet("tunnel_parents");
        if (Count(row, "ip_proto") is { } ipProto) r.IpProto = checked((int)ipProto);
        else r.IpProto = DefaultIpProto(r.Proto);
        r.Vlan = Vlan(row, "id.ctx.vlan") ?? Vlan(row, "vlan");
        r.InnerVlan = Vlan(row, "id.ctx.inner_vlan") ?? Vlan(row, "inner_vlan");
        return r;
    }

    /// <summary>
    /// Parses Zeek's seconds text ("1300475167.096535", "0.5", "12") into nanoseconds, exactly (no floating
    /// point); digits past the ninth decimal are cut off.
    /// </summary>
    public static bool TryParseSecondsToNanos(ReadOnlySpan<char> text, out long nanos)
    {
        nanos = 0;
        text = text.Trim();
        var negative = text.Length > 0 && text[0] == '-';
        if (negative) text = text[1..];
        if (text.Length == 0) return false;
        var dot = text.IndexOf('.');
        var whole = dot < 0 ? text : text[..dot];
        var frac = dot < 0 ? ReadOnlySpan<char>.Empty : text[(dot + 1)..];
        if (whole.Length == 0 && frac.Length == 0) return false;
        long seconds = 0;
        if (whole.Length > 0 && !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out seconds)) return false;
        long fraction = 0;
        var digits = 0;
        foreach (var c in frac)
        {
            if (!char.IsAsciiDigit(c)) return false;
            if (digits == 9) continue;
            fraction = fraction * 10 + (c - '0');
            digits++;
        }
        for (; digits < 9; digits++) fraction *= 10;
        try
        {
            nanos = checked(seconds * 1_000_000_000L + fraction);
        }
        catch (OverflowException)
        {
            return false;
        }
        if (negative) nanos = -nanos;
        return true;
    }

    private static int DefaultIpProto(TransportProto proto) => proto switch
    {
        TransportProto.Tcp => 6,
        TransportProto.Udp => 17,
        _ => 0,
    };

    private static bool Usable(ZeekLogRow row, string name) =>
        row[name] is { } raw && raw != ZeekLogReader.DefaultUnsetField && !row.IsMasked(name);

    private static long ParseSecondsToNanos(ZeekLogRow row, string name) =>
        TryParseSecondsToNanos(row[name], out var ns) ? ns : throw Bad(row, name, "a time in seconds");

    private static IPAddr128 ParseAddr(ZeekLogRow row, string name)
    {
        var text = row.GetValue(name)!;
        return System.Net.IPAddress.TryParse(text, out var address) ? IPAddr128.FromIPAddress(address) : throw Bad(row, name, "an address");
    }

    private static ushort ParsePort(ZeekLogRow row, string name)
    {
        var text = row.GetValue(name)!;
        var slash = text.IndexOf('/');
        if (slash >= 0) text = text[..slash]; // "80/tcp" as the port type may be written elsewhere
        return ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : throw Bad(row, name, "a port");
    }

    private static TransportProto ParseProto(ZeekLogRow row, string name) => row.GetValue(name) switch
    {
        "tcp" => TransportProto.Tcp,
        "udp" => TransportProto.Udp,
        "icmp" => TransportProto.Icmp,
        "unknown_transport" => TransportProto.Unknown,
        _ => throw Bad(row, name, "tcp, udp, icmp or unknown_transport"),
    };

    private static ulong? Count(ZeekLogRow row, string name)
    {
        if (!Usable(row, name)) return null;
        return ulong.TryParse(row[name], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Bad(row, name, "a count");
    }

    private static bool? Bool(ZeekLogRow row, string name)
    {
        if (!Usable(row, name)) return null;
        return row[name] switch
        {
            "T" or "1" or "true" => true,
            "F" or "0" or "false" => false,
            _ => throw Bad(row, name, "T or F"),
        };
    }

    private static ushort? Vlan(ZeekLogRow row, string name)
    {
        var n = Count(row, name);
        return n is null ? null : n <= 4095 ? (ushort)n : throw Bad(row, name, "a VLAN id");
    }

    private static FormatException Bad(ZeekLogRow row, string name, string what) =>
        new($"line {row.LineNumber}, column {name}: '{row[name]}' is not {what}");
}

using System.Globalization;
using System.Text;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Records;

/// <summary>
/// The one place that knows conn.log's columns and how Zeek 9.1 renders each of them. The TSV, JSON and CSV
/// writers (and tests) all go through here. Facts follow Zeek's ASCII formatter: time and interval with 6
/// decimals (modp_dtoa), bools T/F, unset '-', empty set '(empty)', strings escaped \xNN, addresses as
/// Zeek's inet_ntop prints them.
/// </summary>
public static class ZeekFieldFormat
{
    public const string Separator = "\t";
    public const string SetSeparator = ",";
    public const string EmptyField = "(empty)";
    public const string UnsetField = "-";
    public const string Path = "conn";

    public const int Ts = 0, Uid = 1, OrigH = 2, OrigP = 3, RespH = 4, RespP = 5, Proto = 6, Service = 7,
        Duration = 8, OrigBytes = 9, RespBytes = 10, ConnState = 11, LocalOrig = 12, LocalResp = 13,
        MissedBytes = 14, History = 15, OrigPkts = 16, OrigIpBytes = 17, RespPkts = 18, RespIpBytes = 19,
        TunnelParents = 20, IpProto = 21;

    /// <summary>conn.log's #fields, in order.</summary>
    public static readonly string[] FieldNames =
    {
        "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
        "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
        "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto",
    };

    /// <summary>conn.log's #types, in the order of <see cref="FieldNames"/>.</summary>
    public static readonly string[] FieldTypes =
    {
        "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
        "count", "count", "string", "bool", "bool", "count", "string",
        "count", "count", "count", "count", "set[string]", "count",
    };

    public static int FieldCount => FieldNames.Length;

    /// <summary>The column index of a conn.log field name, or -1.</summary>
    public static int IndexOf(string fieldName) => Array.IndexOf(FieldNames, fieldName);

    // ---- values as Zeek holds them -------------------------------------------------------------------

    /// <summary>
    /// The double Zeek holds for a packet time given in nanoseconds: libpcap hands Zeek microseconds
    /// (nanosecond captures are truncated), and Zeek computes sec + usec / 1e6.
    /// </summary>
    public static double ZeekTime(long nanoseconds)
    {
        long sec = Math.DivRem(nanoseconds, 1_000_000_000L, out long rem);
        if (rem < 0) { sec--; rem += 1_000_000_000L; }
        long usec = rem / 1000;
        return sec + usec / 1e6;
    }

    /// <summary>Zeek's duration: the difference of the last and first packet times as Zeek's doubles.</summary>
    public static double ZeekDuration(long tsNanoseconds, long durationNanoseconds) =>
        ZeekTime(tsNanoseconds + durationNanoseconds) - ZeekTime(tsNanoseconds);

    /// <summary>True when the field holds a value (Zeek would not write '-').</summary>
    public static bool IsSet(ConnRecord r, int field) => field switch
    {
        Service => r.Service is not null,
        Duration => r.Duration is not null,
        OrigBytes => r.OrigBytes is not null,
        RespBytes => r.RespBytes is not null,
        ConnState => r.ConnState is not null,
        LocalOrig => r.LocalOrig is not null,
        LocalResp => r.LocalResp is not null,
        History => r.History is not null,
        OrigPkts => r.OrigPkts is not null,
        OrigIpBytes => r.OrigIpBytes is not null,
        RespPkts => r.RespPkts is not null,
        RespIpBytes => r.RespIpBytes is not null,
        TunnelParents => r.TunnelParents is not null,
        _ => (uint)field < (uint)FieldNames.Length ? true : throw new ArgumentOutOfRangeException(nameof(field)),
    };

    /// <summary>
    /// The field's text, unescaped, as Zeek renders the value (time/interval 6 decimals, bools T/F, sets joined
    /// by ','), or null when unset. Used by CSV and anything wanting plain text.
    /// </summary>
    public static string? RawText(ConnRecord r, int field)
    {
        if (!IsSet(r, field)) return null;
        return field switch
        {
            Ts => FormatDouble6(ZeekTime(r.Ts)),
            Uid => r.Uid,
            OrigH => FormatAddr(r.OrigH),
            OrigP => r.OrigP.ToString(CultureInfo.InvariantCulture),
            RespH => FormatAddr(r.RespH),
            RespP => r.RespP.ToString(CultureInfo.InvariantCulture),
            Proto => r.Proto.ToZeekName(),
            Service => r.Service,
            Duration => FormatDouble6(ZeekDuration(r.Ts, r.Duration!.Value)),
            OrigBytes => Count(r.OrigBytes!.Value),
            RespBytes => Count(r.RespBytes!.Value),
            ConnState => r.ConnState,
            LocalOrig => r.LocalOrig!.Value ? "T" : "F",
            LocalResp => r.LocalResp!.Value ? "T" : "F",
            MissedBytes => Count(r.MissedBytes),
            History => r.History,
            OrigPkts => Count(r.OrigPkts!.Value),
            OrigIpBytes => Count(r.OrigIpBytes!.Value),
            RespPkts => Count(r.RespPkts!.Value),
            RespIpBytes => Count(r.RespIpBytes!.Value),
            TunnelParents => string.Join(SetSeparator, r.TunnelParents!),
            IpProto => r.IpProto.ToString(CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
    }

    /// <summary>Appends the field exactly as Zeek's ASCII writer writes it in conn.log (escaped, '-' when unset).</summary>
    public static void AppendTsv(StringBuilder sb, ConnRecord r, int field)
    {
        if (!IsSet(r, field)) { sb.Append(UnsetField); return; }
        switch (field)
        {
            case Uid: AppendEscapedString(sb, r.Uid, inSet: false); break;
            case Service: AppendEscapedString(sb, r.Service!, inSet: false); break;
            case ConnState: AppendEscapedString(sb, r.ConnState!, inSet: false); break;
            case History: AppendEscapedString(sb, r.History!, inSet: false); break;
            case TunnelParents:
                var set = r.TunnelParents!;
                if (set.Length == 0) { sb.Append(EmptyField); break; }
                for (int i = 0; i < set.Length; i++)
                {
                    if (i > 0) sb.Append(SetSeparator);
                    AppendEscapedString(sb, set[i], inSet: true);
                }
                break;
            default: sb.Append(RawText(r, field)); break;
        }
    }

    /// <summary>One conn.log data line (without the newline), as Zeek's ASCII writer writes it.</summary>
    public static string TsvLine(ConnRecord r)
    {
        var sb = new StringBuilder(256);
        AppendTsvLine(sb, r);
        return sb.ToString();
    }

    public static void AppendTsvLine(StringBuilder sb, ConnRecord r)
    {
        int start = sb.Length;
        for (int i = 0; i < FieldNames.Length; i++)
        {
            if (i > 0) sb.Append(Separator);
            AppendTsv(sb, r, i);
        }
        // The ASCII writer escapes a first character that would make the line look like a meta line.
        if (sb.Length > start && sb[start] == '#')
            sb.Remove(start, 1).Insert(start, "\\x23");
    }

    // ---- primitives ---------------------------------------------------------------------------------

    private static string Count(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Zeek's rendering of a time or interval in ASCII logs (modp_dtoa with precision 6): always 6 decimals,
    /// its own rounding (half rounds up when the last digit is odd or the fraction is 0), and C's "%e" past 2^31-1.
    /// </summary>
    public static string FormatDouble6(double value)
    {
        if (double.IsNaN(value)) return "nan";
        const double thresMax = int.MaxValue;
        bool neg = value < 0;
        if (neg) value = -value;
        if (value > thresMax)
            return FormatCExponent(neg ? -value : value);

        int whole = (int)value;
        double tmp = (value - whole) * 1_000_000d;
        uint frac = (uint)tmp;
        double diff = tmp - frac;
        if (diff > 0.5)
        {
            ++frac;
            if (frac >= 1_000_000) { frac = 0; ++whole; }
        }
        else if (diff == 0.5 && (frac == 0 || (frac & 1) != 0))
        {
            ++frac;
        }

        var s = string.Create(CultureInfo.InvariantCulture, $"{whole}.{frac:D6}");
        return neg ? "-" + s : s;
    }

    /// <summary>C's printf("%e"): one digit, 6 decimals, exponent with sign and at least two digits.</summary>
    private static string FormatCExponent(double value)
    {
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        return value.ToString("0.000000e+00", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Zeek's escaping of a string value in ASCII logs: control bytes, DEL, backslash and the separator become
    /// \xNN; valid UTF-8 passes through (LogAscii::enable_utf_8 is on by default); a value equal to the unset
    /// or empty marker gets its first character escaped; an empty string is written as '(empty)'. Inside a
    /// set the set separator is escaped too.
    /// </summary>
    public static void AppendEscapedString(StringBuilder sb, string value, bool inSet)
    {
        if (value.Length == 0) { sb.Append(EmptyField); return; }
        if (value == UnsetField || value == EmptyField)
        {
            AppendHexEscape(sb, (byte)value[0]);
            sb.Append(value, 1, value.Length - 1);
            return;
        }
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c < 0x20 || c == 0x7F || c == '\\' || (inSet && c == ','))
            {
                AppendHexEscape(sb, (byte)c);
            }
            else if (char.IsSurrogate(c))
            {
                // A well-formed pair is valid UTF-8 and passes; a lone surrogate cannot be UTF-8: escape its bytes
                // as Zeek escapes invalid UTF-8.
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    sb.Append(c).Append(value[i + 1]);
                    i++;
                }
                else
                {
                    AppendHexEscape(sb, (byte)(0xE0 | (c >> 12)));
                    AppendHexEscape(sb, (byte)(0x80 | ((c >> 6) & 0x3F)));
                    AppendHexEscape(sb, (byte)(0x80 | (c & 0x3F)));
                }
            }
            else
            {
                sb.Append(c);
            }
        }
    }

    private static void AppendHexEscape(StringBuilder sb, byte b)
    {
        const string hex = "0123456789abcdef";
        sb.Append('\\').Append('x').Append(hex[b >> 4]).Append(hex[b & 0xF]);
    }

    /// <summary>
    /// An address as Zeek prints it: dotted quad for IPv4 (also when held v4-mapped), otherwise lower-case
    /// hex with the longest run (2+ words) of zero words compressed to '::', and the embedded-IPv4 forms
    /// (::a.b.c.d, ::ffff:0:a.b.c.d) of Zeek's inet_ntop.
    /// </summary>
    public static string FormatAddr(IPAddr128 addr)
    {
        if (addr.IsIPv4) return FormatIPv4(addr.IPv4Value);

        Span<ushort> w = stackalloc ushort[8];
        for (int i = 0; i < 4; i++)
        {
            w[i] = (ushort)(addr.Hi >> (48 - 16 * i));
            w[4 + i] = (ushort)(addr.Lo >> (48 - 16 * i));
        }

        int bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
        for (int i = 0; i < 8; i++)
        {
            if (w[i] == 0)
            {
                if (curBase == -1) { curBase = i; curLen = 1; } else curLen++;
            }
            else if (curBase != -1)
            {
                if (bestBase == -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
                curBase = -1;
            }
        }
        if (curBase != -1 && (bestBase == -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen; }
        if (bestBase != -1 && bestLen < 2) bestBase = -1;

        var sb = new StringBuilder(40);
        for (int i = 0; i < 8; i++)
        {
            if (bestBase != -1 && i >= bestBase && i < bestBase + bestLen)
            {
                if (i == bestBase) sb.Append(':');
                continue;
            }
            if (i != 0) sb.Append(':');
            if (i == 6 && bestBase == 0 &&
                (bestLen == 6 || (bestLen == 5 && w[5] == 0xFFFF) || (bestLen == 4 && w[4] == 0xFFFF && w[5] == 0)))
            {
                sb.Append(FormatIPv4((uint)addr.Lo));
                return sb.ToString();
            }
            sb.Append(w[i].ToString("x", CultureInfo.InvariantCulture));
        }
        if (bestBase != -1 && bestBase + bestLen == 8) sb.Append(':');
        return sb.ToString();
    }

    private static string FormatIPv4(uint v) =>
        string.Create(CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}");

    /// <summary>A 48-bit MAC address as Zeek's fmt_mac writes it: six lower-case hex pairs joined by ':'.</summary>
    public static string FormatMac(ulong mac) => string.Create(17, mac, static (span, m) =>
    {
        const string hex = "0123456789abcdef";
        for (int i = 0; i < 6; i++)
        {
            byte b = (byte)(m >> (40 - 8 * i));
            span[i * 3] = hex[b >> 4];
            span[i * 3 + 1] = hex[b & 0xF];
            if (i < 5) span[i * 3 + 2] = ':';
        }
    });
}

using System.Globalization;
using System.Text;

namespace ConnTrack.Engine.Records;

/// <summary>
/// Writes records as Zeek's JSON logs (LogAscii::use_json=T, JSON::TS_EPOCH): one object per line, keys as in
/// #fields in column order, unset fields left out, times and intervals as numbers in the shortest form that
/// reads back to Zeek's double (rapidjson's Writer::Double), counts and ports as integers, bools true/false,
/// sets as arrays. No header and no #close.
/// </summary>
public sealed class ZeekJsonWriter : IDisposable
{
    private readonly TextWriter _out;
    private readonly bool _leaveOpen;
    private readonly StringBuilder _line = new(384);

    public ZeekJsonWriter(TextWriter output, bool leaveOpen = false)
    {
        _out = output ?? throw new ArgumentNullException(nameof(output));
        _leaveOpen = leaveOpen;
    }

    public static ZeekJsonWriter Create(string path) =>
        new(new StreamWriter(path, append: false, new UTF8Encoding(false)), leaveOpen: false);

    public long RecordsWritten { get; private set; }

    public void Write(ConnRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _line.Clear();
        AppendObject(_line, record);
        _line.Append('\n');
        _out.Write(_line);
        RecordsWritten++;
    }

    public void WriteAll(IEnumerable<ConnRecord> records)
    {
        foreach (var r in records) Write(r);
    }

    /// <summary>The JSON object for one record, without the newline.</summary>
    public static string ToJson(ConnRecord record)
    {
        var sb = new StringBuilder(384);
        AppendObject(sb, record);
        return sb.ToString();
    }

    public static void AppendObject(StringBuilder sb, ConnRecord r)
    {
        sb.Append('{');
        bool first = true;
        for (int f = 0; f < ZeekFieldFormat.FieldCount; f++)
        {
            if (!ZeekFieldFormat.IsSet(r, f)) continue;
            if (!first) sb.Append(',');
            first = false;
            AppendString(sb, ZeekFieldFormat.FieldNames[f]);
            sb.Append(':');
            switch (f)
            {
                case ZeekFieldFormat.Ts:
                    AppendDouble(sb, ZeekFieldFormat.ZeekTime(r.Ts));
                    break;
                case ZeekFieldFormat.Duration:
                    AppendDouble(sb, ZeekFieldFormat.ZeekDuration(r.Ts, r.Duration!.Value));
                    break;
                case ZeekFieldFormat.LocalOrig:
                    sb.Append(r.LocalOrig!.Value ? "true" : "false");
                    break;
                case ZeekFieldFormat.LocalResp:
                    sb.Append(r.LocalResp!.Value ? "true" : "false");
                    break;
                case ZeekFieldFormat.TunnelParents:
                    sb.Append('[');
                    var set = r.TunnelParents!;
                    for (int i = 0; i < set.Length; i++)
                    {
                        if (i > 0) sb.Append(',');
                        AppendString(sb, set[i]);
                    }
                    sb.Append(']');
                    break;
                default:
                    var type = ZeekFieldFormat.FieldTypes[f];
                    var text = ZeekFieldFormat.RawText(r, f)!;
                    if (type is "count" or "port") sb.Append(text);
                    else AppendString(sb, text);
                    break;
            }
        }
        sb.Append('}');
    }

    /// <summary>A JSON string as rapidjson writes it: '"' and '\' escaped, control characters as \b \f \n \r \t or \u00XX.</summary>
    public static void AppendString(StringBuilder sb, string s)
    {
        const string hex = "0123456789ABCDEF";
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append("\\u00").Append(hex[c >> 4]).Append(hex[c & 0xF]);
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>
    /// A double as rapidjson's Writer::Double writes it: the shortest digits that read back to the value, laid
    /// out as fixed notation ("1300475167.096535", "2.0", "0.000357") when the decimal point falls within 21
    /// digits to the left or 6 zeros to the right, otherwise as "1.5e22" / "1e-7". NaN and infinities become null.
    /// </summary>
    public static void AppendDouble(StringBuilder sb, double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d)) { sb.Append("null"); return; }
        if (d == 0) { sb.Append(double.IsNegative(d) ? "-0.0" : "0.0"); return; }
        if (d < 0) { sb.Append('-'); d = -d; }

        // Shortest round-trip digits and decimal exponent from .NET ("E16" is not shortest; "R" is).
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        int ePos = r.IndexOfAny(new[] { 'E', 'e' });
        int exp10 = 0;
        string mant = r;
        if (ePos >= 0)
        {
            exp10 = int.Parse(r.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mant = r.Substring(0, ePos);
        }
        int dot = mant.IndexOf('.');
        string digits;
        int intDigits;
        if (dot >= 0) { digits = mant.Remove(dot, 1); intDigits = dot; }
        else { digits = mant; intDigits = mant.Length; }
        // Normalise: strip leading zeros (as in "0.000357") and trailing zeros.
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; intDigits--; }
        digits = digits.Substring(lead);
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";

        int length = digits.Length;
        int kk = intDigits + exp10;        // position of the decimal point relative to the digits
        int k = kk - length;               // value = digits * 10^k

        if (k >= 0 && kk <= 21)
        {
            sb.Append(digits).Append('0', k).Append(".0");
        }
        else if (kk > 0 && kk <= 21)
        {
            sb.Append(digits, 0, kk).Append('.').Append(digits, kk, length - kk);
        }
        else if (kk > -6 && kk <= 0)
        {
            sb.Append("0.").Append('0', -kk).Append(digits);
        }
        else
        {
            sb.Append(digits[0]);
            if (length > 1) sb.Append('.').Append(digits, 1, length - 1);
            sb.Append('e').Append((kk - 1).ToString(CultureInfo.InvariantCulture));
        }
    }

    public void Flush() => _out.Flush();

    public void Dispose()
    {
        _out.Flush();
        if (!_leaveOpen) _out.Dispose();
    }
}

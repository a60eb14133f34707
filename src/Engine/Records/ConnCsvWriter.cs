using System.Text;

namespace ConnTrack.Engine.Records;

/// <summary>
/// Writes records as RFC 4180 CSV: a header row of conn.log's field names, then one row per record with one
/// column per field. Values are Zeek's text for the field (<see cref="ZeekFieldFormat.RawText"/>: times with
/// 6 decimals, bools T/F, sets joined by ','); an unset field is an empty cell. A value holding a comma, a
/// double quote, CR or LF is quoted, with inner quotes doubled. Rows end in CRLF as RFC 4180 says.
/// </summary>
public sealed class ConnCsvWriter : IDisposable
{
    public const string RowEnd = "\r\n";

    private readonly TextWriter _out;
    private readonly bool _leaveOpen;
    private readonly StringBuilder _row = new(256);
    private bool _headerWritten;

    public ConnCsvWriter(TextWriter output, bool leaveOpen = false)
    {
        _out = output ?? throw new ArgumentNullException(nameof(output));
        _leaveOpen = leaveOpen;
    }

    public static ConnCsvWriter Create(string path) =>
        new(new StreamWriter(path, append: false, new UTF8Encoding(false)), leaveOpen: false);

    public long RecordsWritten { get; private set; }

    /// <summary>The header row (without the row end).</summary>
    public static string HeaderRow() => string.Join(",", ZeekFieldFormat.FieldNames);

    /// <summary>Writes the header row if it is not written yet (also done by the first <see cref="Write"/>).</summary>
    public void EnsureHeader()
    {
        if (_headerWritten) return;
        _out.Write(HeaderRow());
        _out.Write(RowEnd);
        _headerWritten = true;
    }

    public void Write(ConnRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        EnsureHeader();
        _row.Clear();
        AppendRow(_row, record);
        _row.Append(RowEnd);
        _out.Write(_row);
        RecordsWritten++;
    }

    public void WriteAll(IEnumerable<ConnRecord> records)
    {
        foreach (var r in records) Write(r);
    }

    /// <summary>One data row (without the row end).</summary>
    public static string Row(ConnRecord record)
    {
        var sb = new StringBuilder(256);
        AppendRow(sb, record);
        return sb.ToString();
    }

    public static void AppendRow(StringBuilder sb, ConnRecord r)
    {
        for (int f = 0; f < ZeekFieldFormat.FieldCount; f++)
        {
            if (f > 0) sb.Append(',');
            var text = ZeekFieldFormat.RawText(r, f);
            if (text is not null) AppendCell(sb, text);
        }
    }

    /// <summary>One cell per RFC 4180: quoted when it holds ',', '"', CR or LF, quotes doubled inside.</summary>
    public static void AppendCell(StringBuilder sb, string value)
    {
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0) { sb.Append(value); return; }
        sb.Append('"');
        foreach (char c in value)
        {
            if (c == '"') sb.Append('"');
            sb.Append(c);
        }
        sb.Append('"');
    }

    public void Flush() => _out.Flush();

    public void Dispose()
    {
        _out.Flush();
        if (!_leaveOpen) _out.Dispose();
    }
}

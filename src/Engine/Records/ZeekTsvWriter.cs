using System.Globalization;
using System.Text;

namespace ConnTrack.Engine.Records;

/// <summary>
/// Writes records as Zeek's ASCII conn.log, byte for byte as Zeek 9.1 writes it: the meta header
/// (#separator ... #types), one line per record, and #close. Like Zeek, nothing at all is written until the
/// first record (Zeek creates no conn.log for a trace without connections). Lines end in '\n'; text is UTF-8
/// without a byte-order mark.
/// </summary>
public sealed class ZeekTsvWriter : IDisposable
{
    /// <summary>The format of #open and #close: local wall-clock time, as Zeek's strftime("%Y-%m-%d-%H-%M-%S").</summary>
    public const string MetaTimeFormat = "yyyy-MM-dd-HH-mm-ss";

    private readonly TextWriter _out;
    private readonly bool _leaveOpen;
    private readonly Func<DateTime> _clock;
    private readonly StringBuilder _line = new(256);
    private bool _headerWritten;
    private bool _closed;

    /// <param name="output">Where the log goes; its newline setting is not used ('\n' is written).</param>
    /// <param name="leaveOpen">Leave <paramref name="output"/> open when this writer is disposed.</param>
    /// <param name="clock">Local wall-clock time for #open and #close (default: <see cref="DateTime.Now"/>).</param>
    public ZeekTsvWriter(TextWriter output, bool leaveOpen = false, Func<DateTime>? clock = null)
    {
        _out = output ?? throw new ArgumentNullException(nameof(output));
        _leaveOpen = leaveOpen;
        _clock = clock ?? (() => DateTime.Now);
    }

    /// <summary>A writer to a new file (UTF-8, no BOM), overwriting it as Zeek does.</summary>
    public static ZeekTsvWriter Create(string path, Func<DateTime>? clock = null) =>
        new(new StreamWriter(path, append: false, new UTF8Encoding(false)), leaveOpen: false, clock);

    public long RecordsWritten { get; private set; }

    /// <summary>The header lines Zeek writes when it opens conn.log, each ending in '\n'.</summary>
    public static string Header(DateTime openTime)
    {
        var sb = new StringBuilder(512);
        sb.Append("#separator \\x09\n");
        sb.Append("#set_separator\t").Append(ZeekFieldFormat.SetSeparator).Append('\n');
        sb.Append("#empty_field\t").Append(ZeekFieldFormat.EmptyField).Append('\n');
        sb.Append("#unset_field\t").Append(ZeekFieldFormat.UnsetField).Append('\n');
        sb.Append("#path\t").Append(ZeekFieldFormat.Path).Append('\n');
        sb.Append("#open\t").Append(FormatMetaTime(openTime)).Append('\n');
        sb.Append("#fields\t").AppendJoin('\t', ZeekFieldFormat.FieldNames).Append('\n');
        sb.Append("#types\t").AppendJoin('\t', ZeekFieldFormat.FieldTypes).Append('\n');
        return sb.ToString();
    }

    public static string FormatMetaTime(DateTime time) => time.ToString(MetaTimeFormat, CultureInfo.InvariantCulture);

    public void Write(ConnRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_closed) throw new ObjectDisposedException(nameof(ZeekTsvWriter));
        EnsureHeader();
        _line.Clear();
        ZeekFieldFormat.AppendTsvLine(_line, record);
        _line.Append('\n');
        _out.Write(_line);
        RecordsWritten++;
    }

    public void WriteAll(IEnumerable<ConnRecord> records)
    {
        foreach (var r in records) Write(r);
    }

    /// <summary>Writes the header now even if no record follows (Zeek itself would write no file).</summary>
    public void EnsureHeader()
    {
        if (_headerWritten) return;
        _out.Write(Header(_clock()));
        _headerWritten = true;
    }

    /// <summary>Writes #close (when a header was written) and flushes. Further writes are refused.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        if (_headerWritten)
            _out.Write("#close\t" + FormatMetaTime(_clock()) + "\n");
        _out.Flush();
    }

    public void Dispose()
    {
        Close();
        if (!_leaveOpen) _out.Dispose();
    }
}

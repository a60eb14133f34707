using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace ConnTrack.Engine.Records;

/// <summary>The form a Zeek log was written in.</summary>
public enum ZeekLogFormat
{
    /// <summary>Not known yet (nothing read).</summary>
    Unknown = 0,
    /// <summary>Zeek's ASCII writer: tab-separated, with '#' header lines (or a bare header line, as zeek-cut writes).</summary>
    Tsv = 1,
    /// <summary>Zeek's JSON writer: one object per line.</summary>
    JsonLines = 2,
}

/// <summary>How to read a log whose header is missing or whose columns are named differently.</summary>
public sealed class ZeekLogReaderOptions
{
    /// <summary>
    /// Column names for a log with no header at all (zeek-cut without -m). When null, a log with no
    /// '#fields' line takes its first line that does not start with '#' as its header line.
    /// </summary>
    public IReadOnlyList<string>? Columns { get; set; }

    /// <summary>Column renames applied to the header: name in the file → name used in rows (e.g. src_ip → id.orig_h).</summary>
    public IReadOnlyDictionary<string, string>? Renames { get; set; }
}

/// <summary>
/// Reads Zeek logs (conn.log first of all): the ASCII TSV form with its '#' header lines, the header-line
/// form that zeek-cut writes, and the JSON-lines form; any of them gzip-compressed (detected by content).
/// Rows keep each field's text exactly as Zeek's ASCII writer would write it ('-' unset, '(empty)' empty,
/// '\xNN' escapes kept), so they compare with a formatted record in text form; <see cref="ZeekLogRow.GetValue"/>
/// unescapes. Not a hot path: a few allocations per row are fine.
/// </summary>
public sealed class ZeekLogReader : IDisposable
{
    public const string DefaultSeparator = "\t";
    public const string DefaultSetSeparator = ",";
    public const string DefaultEmptyField = "(empty)";
    public const string DefaultUnsetField = "-";

    private readonly TextReader _text;
    private readonly ZeekLogReaderOptions _options;
    private ZeekLogHeader? _header;
    private string[]? _pendingTypes;
    private int _lineNumber;

    public ZeekLogReader(TextReader text, ZeekLogReaderOptions? options = null)
    {
        _text = text;
        _options = options ?? new ZeekLogReaderOptions();
        if (_options.Columns is { Count: > 0 } columns)
            _header = ZeekLogHeader.Create(Rename(columns.ToArray()), null);
    }

    /// <summary>Opens a log file, decompressing it when it starts with the gzip magic bytes.</summary>
    public static ZeekLogReader Open(string path, ZeekLogReaderOptions? options = null) =>
        new(OpenText(File.OpenRead(path)), options) { FilePath = path };

    /// <summary>Reads a log from a stream (plain or gzip, detected by content); the reader owns the stream.</summary>
    public static ZeekLogReader FromStream(Stream stream, ZeekLogReaderOptions? options = null) => new(OpenText(stream), options);

    /// <summary>Reads a log held in a string.</summary>
    public static ZeekLogReader FromText(string text, ZeekLogReaderOptions? options = null) => new(new StringReader(text), options);

    /// <summary>Reads every row of a log file at once.</summary>
    public static List<ZeekLogRow> ReadAll(string path, ZeekLogReaderOptions? options = null)
    {
        using var reader = Open(path, options);
        return reader.ReadRows().ToList();
    }

    public string? FilePath { get; private init; }
    public ZeekLogFormat Format { get; private set; }
    public string Separator { get; private set; } = DefaultSeparator;
    public string SetSeparator { get; private set; } = DefaultSetSeparator;
    public string EmptyField { get; private set; } = DefaultEmptyField;
    public string UnsetField { get; private set; } = DefaultUnsetField;
    /// <summary>The '#path' header (e.g. "conn"), when the log has one.</summary>
    public string? LogPath { get; private set; }

    /// <summary>The column names of the rows read last (after renames); empty until a header is seen.</summary>
    public IReadOnlyList<string> Fields => _header?.Names ?? [];

    /// <summary>The '#types' of the columns, when the log has them.</summary>
    public IReadOnlyList<string>? Types => _header?.Types;

    /// <summary>Reads the rows one by one. A later '#fields' line (concatenated logs) changes the columns from there on.</summary>
    public IEnumerable<ZeekLogRow> ReadRows()
    {
        string? line;
        while ((line = _text.ReadLine()) is not null)
        {
            _lineNumber++;
            if (line.Length == 0) continue;
            if (Format == ZeekLogFormat.Unknown)
                Format = line[0] == '{' ? ZeekLogFormat.JsonLines : ZeekLogFormat.Tsv;

            if (Format == ZeekLogFormat.JsonLines)
            {
                if (line[0] != '{') continue; // stray text between objects
                yield return ParseJsonLine(line);
                continue;
            }

            if (line[0] == '#')
            {
                ParseHeaderLine(line);
                continue;
            }
            if (_header is null)
            {
                // A bare header line, as zeek-cut writes it with column names but no '#fields'.
                _header = ZeekLogHeader.Create(Rename(line.Split(Separator)), null);
                continue;
            }
            yield return ParseTsvLine(line);
        }
    }

    public void Dispose() => _text.Dispose();

    private static TextReader OpenText(Stream stream)
    {
        var buffered = stream.CanSeek ? stream : new BufferedStream(stream);
        Span<byte> magic = stackalloc byte[2];
        var pos = buffered.CanSeek ? buffered.Position : 0;
        var got = buffered.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        if (buffered.CanSeek) buffered.Position = pos;
        else throw new NotSupportedException("the log stream must be seekable");
        if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            return new StreamReader(new GZipStream(buffered, CompressionMode.Decompress), Encoding.UTF8);
        return new StreamReader(buffered, Encoding.UTF8);
    }

    private void ParseHeaderLine(string line)
    {
        // "#separator \x09" uses a space (the separator is not known yet); the others use the separator.
        if (line.StartsWith("#separator ", StringComparison.Ordinal))
        {
            Separator = Unescape(line.Substring("#separator ".Length).Trim());
            return;
        }
        var tab = line.IndexOf(Separator, StringComparison.Ordinal);
        if (tab < 0) return; // a comment ("### ...", "#close" without a value)
        var key = line.Substring(1, tab - 1);
        var rest = line.Substring(tab + Separator.Length);
        switch (key)
        {
            case "set_separator": SetSeparator = Unescape(rest); break;
            case "empty_field": EmptyField = Unescape(rest); break;
            case "unset_field": UnsetField = Unescape(rest); break;
            case "path": LogPath = rest; break;
            case "fields":
                _header = ZeekLogHeader.Create(Rename(rest.Split(Separator)), _pendingTypes);
                _pendingTypes = null;
                break;
            case "types":
                var types = rest.Split(Separator);
                if (_header is not null && _header.Types is null && types.Length == _header.Names.Length)
                    _header = ZeekLogHeader.Create(_header.Names, types);
                else
                    _pendingTypes = types;
                break;
        }
    }

    private ZeekLogRow ParseTsvLine(string line)
    {
        var header = _header!;
        var parts = line.Split(Separator);
        var values = new string[header.Names.Length];
        for (var i = 0; i < values.Length; i++)
            values[i] = i < parts.Length ? Canonical(parts[i]) : DefaultUnsetField;
        return new ZeekLogRow(header, values, _lineNumber);
    }

    /// <summary>Maps the file's own unset/empty markers and set separator to Zeek's defaults, so rows compare as text.</summary>
    private string Canonical(string raw)
    {
        if (raw == UnsetField) return DefaultUnsetField;
        if (raw == EmptyField) return DefaultEmptyField;
        if (SetSeparator != DefaultSetSeparator && raw.Contains(SetSeparator, StringComparison.Ordinal))
            return raw.Replace(SetSeparator, DefaultSetSeparator, StringComparison.Ordinal);
        return raw;
    }

    private ZeekLogRow ParseJsonLine(string line)
    {
        var names = new List<string>();
        var values = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(line);
            Flatten(doc.RootElement, "", names, values);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"line {_lineNumber}: not a JSON object: {ex.Message}", ex);
        }
        var renamed = Rename(names.ToArray());
        // Columns are the union in first-seen order; a key missing from one object is unset in that row.
        if (_header is null || !SameNames(_header.Names, renamed))
        {
            var union = _header is null ? new List<string>() : new List<string>(_header.Names);
            foreach (var n in renamed)
                if (!union.Contains(n)) union.Add(n);
            if (_header is null || union.Count != _header.Names.Length)
                _header = ZeekLogHeader.Create(union.ToArray(), null);
        }
        var row = new string[_header.Names.Length];
        Array.Fill(row, DefaultUnsetField);
        for (var i = 0; i < renamed.Length; i++)
            row[_header.IndexOf(renamed[i])] = values[i];
        return new ZeekLogRow(_header, row, _lineNumber, absentIsUnset: true);
    }

    private static bool SameNames(string[] a, string[] b) => a.AsSpan().SequenceEqual(b);

    private static void Flatten(JsonElement element, string prefix, List<string> names, List<string> values)
    {
        foreach (var prop in element.EnumerateObject())
        {
            var name = prefix.Length == 0 ? prop.Name : prefix + "." + prop.Name;
            if (prop.Value.ValueKind == JsonValueKind.Object)
            {
                Flatten(prop.Value, name, names, values);
                continue;
            }
            names.Add(name);
            values.Add(JsonToText(name, prop.Value));
        }
    }

    /// <summary>A JSON value as Zeek's ASCII writer would have written the same field.</summary>
    private static string JsonToText(string name, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return DefaultUnsetField;
            case JsonValueKind.True: return "T";
            case JsonValueKind.False: return "F";
            case JsonValueKind.Number:
                if (IsTimeLike(name) && value.TryGetDecimal(out var d))
                    return d.ToString("F6", CultureInfo.InvariantCulture);
                return value.GetRawText();
            case JsonValueKind.String:
                var s = value.GetString() ?? "";
                if (IsTimeLike(name) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
                    && s.Contains('T'))
                {
                    // LogAscii::json_timestamps = JSON::TS_ISO8601.
                    var ticks = (when.UtcDateTime - DateTime.UnixEpoch).Ticks;
                    return (ticks / 10_000_000).ToString(CultureInfo.InvariantCulture) + "." + (ticks % 10_000_000 / 10).ToString("D6", CultureInfo.InvariantCulture);
                }
                return EscapeString(s);
            case JsonValueKind.Array:
                if (value.GetArrayLength() == 0) return DefaultEmptyField;
                var sb = new StringBuilder();
                foreach (var item in value.EnumerateArray())
                {
                    if (sb.Length > 0) sb.Append(DefaultSetSeparator);
                    var text = JsonToText(name, item);
                    sb.Append(text.Replace(DefaultSetSeparator, "\\x2c", StringComparison.Ordinal));
                }
                return sb.ToString();
            default:
                return value.GetRawText();
        }
    }

    private static bool IsTimeLike(string name) => name is "ts" or "duration";

    private string[] Rename(string[] names)
    {
        if (_options.Renames is not { Count: > 0 } renames) return names;
        var result = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
            result[i] = renames.TryGetValue(names[i], out var to) ? to : names[i];
        return result;
    }

    /// <summary>
    /// Writes a string value the way Zeek's ASCII writer does: empty → '(empty)', a value equal to '-' or
    /// '(empty)' gets its first character escaped, tabs and other non-printable bytes become \xNN.
    /// </summary>
    public static string EscapeString(string value)
    {
        if (value.Length == 0) return DefaultEmptyField;
        if (value == DefaultUnsetField) return "\\x2d";
        if (value == DefaultEmptyField) return "\\x28empty)";
        StringBuilder? sb = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var escape = c < 0x20 || c == 0x7f;
            if (escape)
            {
                sb ??= new StringBuilder(value, 0, i, value.Length + 8);
                sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb?.Append(c);
            }
        }
        return sb?.ToString() ?? value;
    }

    /// <summary>Undoes Zeek's \xNN escapes (bytes, read as Latin-1 so that a byte maps to one char).</summary>
    public static string Unescape(string text)
    {
        var at = text.IndexOf("\\x", StringComparison.Ordinal);
        if (at < 0) return text;
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x' && IsHex(text, i + 2) && IsHex(text, i + 3))
            {
                sb.Append((char)int.Parse(text.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 4;
                continue;
            }
            sb.Append(text[i]);
            i++;
        }
        return sb.ToString();
    }

    private static bool IsHex(string s, int i) => i < s.Length && char.IsAsciiHexDigit(s[i]);
}

/// <summary>The column names (and types, when known) shared by the rows of one log section.</summary>
public sealed class ZeekLogHeader
{
    private readonly Dictionary<string, int> _index;

    private ZeekLogHeader(string[] names, string[]? types)
    {
        Names = names;
        Types = types;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
            _index.TryAdd(names[i], i); // a column named twice: the first one answers
    }

    internal static ZeekLogHeader Create(string[] names, string[]? types) =>
        new(names, types is not null && types.Length == names.Length ? types : null);

    public string[] Names { get; }
    public string[]? Types { get; }

    public int IndexOf(string name) => _index.TryGetValue(name, out var i) ? i : -1;
}

/// <summary>One log line: each field's text as Zeek's ASCII writer writes it, by column name.</summary>
public sealed class ZeekLogRow
{
    private readonly string[] _values;

    internal ZeekLogRow(ZeekLogHeader header, string[] values, int lineNumber, bool absentIsUnset = false)
    {
        Header = header;
        _values = values;
        LineNumber = lineNumber;
        _absentIsUnset = absentIsUnset;
    }

    private readonly bool _absentIsUnset;

    public ZeekLogHeader Header { get; }
    public IReadOnlyList<string> Names => Header.Names;
    /// <summary>The line of the file this row came from (1-based).</summary>
    public int LineNumber { get; }

    public bool Has(string name) => Header.IndexOf(name) >= 0;

    /// <summary>
    /// The field's text as written ('-' for unset, '(empty)' for empty, escapes kept), or null if the column is
    /// absent. In a JSON log (where Zeek leaves unset fields out) an absent column reads as '-'.
    /// </summary>
    public string? this[string name]
    {
        get
        {
            var i = Header.IndexOf(name);
            return i >= 0 ? _values[i] : _absentIsUnset ? ZeekLogReader.DefaultUnsetField : null;
        }
    }

    /// <summary>The field's value unescaped: null when unset or absent, "" when empty.</summary>
    public string? GetValue(string name)
    {
        var raw = this[name];
        if (raw is null || raw == ZeekLogReader.DefaultUnsetField) return null;
        if (raw == ZeekLogReader.DefaultEmptyField) return "";
        return ZeekLogReader.Unescape(raw);
    }

    /// <summary>A set or vector field's elements: null when unset or absent, empty when '(empty)'.</summary>
    public string[]? GetSet(string name)
    {
        var raw = this[name];
        if (raw is null || raw == ZeekLogReader.DefaultUnsetField) return null;
        if (raw == ZeekLogReader.DefaultEmptyField) return [];
        var parts = raw.Split(ZeekLogReader.DefaultSetSeparator);
        for (var i = 0; i < parts.Length; i++)
            parts[i] = ZeekLogReader.Unescape(parts[i]);
        return parts;
    }

    /// <summary>True when the field is present but masked by a test canonifier (e.g. XXXXXXXXXX.XXXXXX).</summary>
    public bool IsMasked(string name) => this[name] is { } raw && raw.Contains('X', StringComparison.Ordinal) && raw.Trim('X', '.', '-').Length == 0;

    public override string ToString() => string.Join('\t', _values);
}

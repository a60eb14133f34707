using System.Management.Automation;
using System.Text;
using ConnTrack.Engine.Records;
using ConnTrack.Infrastructure;
using ConnTrack.Model;

namespace ConnTrack.Commands;

/// <summary>The forms Export-ConnLog writes.</summary>
public enum ConnLogFormat
{
    /// <summary>Zeek's ASCII conn.log (tab-separated with the # header lines), as Zeek writes it.</summary>
    Zeek,
    /// <summary>Zeek's JSON writer: one object per line.</summary>
    Json,
    /// <summary>CSV with one column per conn.log field, a header row, Zeek's value text.</summary>
    Csv,
}

/// <summary>
/// Export-ConnLog: ConnInfo objects (from Read-ConnTrace, Watch-ConnInterface or Import-ConnLog) written by the
/// engine's writers as a Zeek conn.log, Zeek JSON or CSV; to -Path, or as lines of text down the pipeline.
/// </summary>
[Cmdlet(VerbsData.Export, "ConnLog", SupportsShouldProcess = true, DefaultParameterSetName = ToPipelineSet)]
[OutputType(typeof(string), ParameterSetName = [ToPipelineSet])]
[OutputType(typeof(FileInfo), ParameterSetName = [ToFileSet])]
public sealed class ExportConnLogCommand : PSCmdlet, IDisposable
{
    public const string ToPipelineSet = "ToPipeline";
    public const string ToFileSet = "ToFile";

    private TextWriter? _text;
    private StringWriter? _pipelineBuffer;
    private IDisposable? _writer;
    private Action<ConnRecord>? _write;
    private string? _path;
    private bool _skip;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public ConnInfo? InputObject { get; set; }

    [Parameter(Position = 0)]
    public ConnLogFormat Format { get; set; } = ConnLogFormat.Zeek;

    [Parameter(Mandatory = true, ParameterSetName = ToFileSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(ParameterSetName = ToFileSet)]
    public SwitchParameter NoClobber { get; set; }

    [Parameter(ParameterSetName = ToFileSet)]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        if (Path is not null)
        {
            _path = PathResolver.ResolveOne(this, Path);
            if (NoClobber && File.Exists(_path))
                ThrowTerminatingError(new ErrorRecord(
                    new IOException($"The file '{_path}' already exists and -NoClobber was given."),
                    ErrorIds.LogFileExists, ErrorCategory.ResourceExists, _path));
            if (!ShouldProcess(_path, $"Write {Format} conn.log"))
            {
                _skip = true;
                return;
            }
            try
            {
                if (Force && File.Exists(_path))
                    File.SetAttributes(_path, File.GetAttributes(_path) & ~FileAttributes.ReadOnly);
                _text = new StreamWriter(_path, append: false, new UTF8Encoding(false));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.LogFileWriteFailed, ErrorCategory.WriteError, _path));
            }
        }
        else
        {
            _pipelineBuffer = new StringWriter { NewLine = "\n" };
            _text = _pipelineBuffer;
        }
        switch (Format)
        {
            case ConnLogFormat.Json:
                var json = new ZeekJsonWriter(_text!, leaveOpen: true);
                (_writer, _write) = (json, json.Write);
                break;
            case ConnLogFormat.Csv:
                var csv = new ConnCsvWriter(_text!, leaveOpen: true);
                (_writer, _write) = (csv, csv.Write);
                break;
            default:
                var tsv = new ZeekTsvWriter(_text!, leaveOpen: true);
                (_writer, _write) = (tsv, tsv.Write);
                break;
        }
    }

    protected override void ProcessRecord()
    {
        if (_skip || InputObject is null) return;
        _write!(InputObject.ToRecord());
        FlushLines(final: false);
    }

    protected override void EndProcessing()
    {
        if (_skip) return;
        _writer?.Dispose(); // the Zeek form writes its #close line here
        _writer = null;
        FlushLines(final: true);
        _text?.Dispose();
        _text = null;
        if (_path is not null) WriteObject(new FileInfo(_path));
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _text?.Dispose();
    }

    /// <summary>Without -Path: hands the complete lines written so far down the pipeline.</summary>
    private void FlushLines(bool final)
    {
        if (_pipelineBuffer is null) return;
        var sb = _pipelineBuffer.GetStringBuilder();
        var text = sb.ToString();
        var end = final ? text.Length : text.LastIndexOf('\n') + 1;
        if (end <= 0) return;
        sb.Remove(0, end);
        // One string per line, without its line end (CSV rows end in \r\n, as RFC 4180 has them).
        foreach (var line in text[..end].Split('\n'))
        {
            var row = line.EndsWith('\r') ? line[..^1] : line;
            if (row.Length > 0) WriteObject(row);
        }
    }
}

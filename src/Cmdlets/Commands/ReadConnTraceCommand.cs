using System.Diagnostics;
using System.Management.Automation;
using ConnTrack.Engine;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Parallel;
using ConnTrack.Engine.Records;
using ConnTrack.Infrastructure;
using ConnTrack.Model;

namespace ConnTrack.Commands;

/// <summary>
/// Read-ConnTrace: capture files in, one <see cref="ConnInfo"/> per connection out, as Zeek's conn.log.
/// Several files form one trace (rotated captures of one sensor) unless -PerFile; records stream out as
/// connections end; a stopped pipeline (Select-Object -First) closes the file at once.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "ConnTrace", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ConnInfo))]
public sealed class ReadConnTraceCommand : FileInputCommand, IDisposable
{
    private const string ProgressActivity = "Read-ConnTrace";

    private ConnTrackOptions _options = new();
    private ITraceRunner? _runner;
    private CaptureReader? _current;
    private ReadThread? _readThread; // made at the first file, kept for the call's other files
    private readonly Stopwatch _clock = new();
    private long _nextProgressMs; // first report with the first records (or after 250 ms without), then every 250 ms
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private readonly CancellationTokenSource _stop = new();
    private bool _progressShown;

    /// <summary>
    /// Threads the engine reads and tracks on: 1 for one thread doing both; N above 1 for one thread reading and
    /// decoding and N - 1 tracking, the flows sharded by a symmetric hash, one table per tracking thread (the same
    /// records; with two threads, one tracking, even the same uids in the same order; with more, uids differ from a
    /// one-thread run). 0 (default): <see cref="TraceThreads.For"/>, every core for captures of 128 MiB or more on 2
    /// cores or more, else one thread. Whatever the count, a file is read on a thread of the engine's
    /// (<see cref="BackgroundFileRead"/>, one <see cref="ReadThread"/> for all the files of a call), not on the
    /// pipeline's; a file under 1 MiB is read at once on the pipeline's thread, where handing it over costs more.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int ThreadCount { get; set; }

    /// <summary>Track each file alone instead of as one trace.</summary>
    [Parameter]
    public SwitchParameter PerFile { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    [Parameter]
    public ConnTrackOptions? Config { get; set; }

    [Parameter]
    public string[]? LikelyServerPorts { get; set; }

    [Parameter]
    public string[]? LocalNets { get; set; }

    [Parameter]
    public SwitchParameter IgnoreChecksums { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Filter { get; set; }

    protected override void BeginProcessing()
    {
        _options = OptionsResolver.Resolve(this, Config, ConfigPath);
        OptionsResolver.ApplyCommon(this, _options, LikelyServerPorts, LocalNets,
            MyInvocation.BoundParameters.ContainsKey(nameof(IgnoreChecksums)) ? IgnoreChecksums.IsPresent : null);
        if (Filter is not null) _options.CaptureFilter = Filter;
        _clock.Start();
    }

    protected override void ProcessRecord()
    {
        foreach (var path in ResolveInputFiles(ErrorIds.CaptureFileNotFound))
        {
            if (Stopping) return;
            if (PerFile)
            {
                using var runner = NewRunner(path);
                ReadOne(runner, path);
                Emit(runner.Finish());
            }
            else
            {
                _runner ??= NewRunner(path);
                ReadOne(_runner, path);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_runner is not null) Emit(_runner.Finish());
        if (_progressShown)
            WriteProgress(new ProgressRecord(0, ProgressActivity, "Done") { RecordType = ProgressRecordType.Completed });
    }

    // Ctrl+C: wakes the pipeline thread if it waits for records; it sees Stopping (and a stopped WriteObject
    // throws), stops and joins the read, and closes the file in the loop's finally (never from this thread).
    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>Closes a file left open when the pipeline ended abnormally.</summary>
    public void Dispose()
    {
        var current = _current;
        _current = null;
        current?.Dispose();
        _readThread?.Dispose(); // idle by now: a read is disposed before its file closes
        _readThread = null;
        _runner?.Dispose();
        _stop.Dispose();
        _runner = null;
    }

    /// <summary>
    /// One thread, or a reading thread and tracking threads when it pays: -ThreadCount, else <see cref="TraceThreads.For"/>.
    /// </summary>
    private ITraceRunner NewRunner(string firstFile)
    {
        int threads = ThreadCount;
        if (threads == 0)
            threads = TraceThreads.For(new FileInfo(firstFile).Length, Environment.ProcessorCount);
        int shards = TraceThreads.TrackingThreads(threads);
        WriteVerbose(threads == 1 ? "Tracking on one thread"
            : $"Tracking on {threads} threads: one reading and decoding, {shards} tracking" + (shards > 1 ? " (flows sharded by a symmetric hash)" : ""));
        try
        {
            return threads > 1 ? new ParallelTraceRunner(_options, shards) : new ConnTraceRunner(_options);
        }
        catch (Exception e) when (EngineBridge.IsFilterError(e))
        {
            ThrowTerminatingError(FilterError(e));
            throw; // not reached
        }
    }

    /// <summary>
    /// Reads one file into the runner on a thread of the engine's (<see cref="BackgroundFileRead"/>; a file under
    /// 1 MiB at once, here) while this, the pipeline's thread, writes the records out: binding each object to the
    /// next command is PowerShell's work per record, and so it runs on another core beside the tracking. A bad file is
    /// one error and the trace goes on.
    /// </summary>
    private void ReadOne(ITraceRunner runner, string path)
    {
        WriteVerbose($"Reading {path}");
        CaptureReader reader;
        try
        {
            reader = CaptureReader.Open(path, _options.MemoryMapFiles);
        }
        catch (Exception e) when (MapReadError(e, path) is { } error)
        {
            WriteError(error);
            return;
        }
        _current = reader;
        try
        {
            using var read = new BackgroundFileRead(runner, reader, _readThread ??= new ReadThread());
            while (true)
            {
                // Woken at least every 250 ms: for progress, and for Ctrl+C while no connection ends.
                if (Stopping) return;
                if (!read.TryTake(ProgressInterval, _stop.Token, out var chunk))
                {
                    Progress(reader, runner, path);
                    continue;
                }
                if (chunk is null) break;
                foreach (var record in chunk)
                    WriteObject(ConnInfo.FromRecord(record));
                Progress(reader, runner, path);
            }
            Progress(reader, runner, path);
            if (read.Error is { } failure)
            {
                if (EngineBridge.IsFilterError(failure.SourceException))
                    ThrowTerminatingError(FilterError(failure.SourceException));
                // The packets before the damage are tracked, and their finished records are out.
                if (MapReadError(failure.SourceException, path) is { } error)
                    WriteError(error);
                else
                    failure.Throw();
            }
        }
        finally
        {
            // The read's thread is joined (by the using) before the file is closed.
            _current = null;
            reader.Dispose();
        }
    }

    private void Emit(IEnumerable<ConnRecord> records)
    {
        foreach (var record in records)
        {
            if (Stopping) return;
            WriteObject(ConnInfo.FromRecord(record));
        }
    }

    private void Progress(CaptureReader reader, ITraceRunner runner, string path)
    {
        var elapsed = _clock.ElapsedMilliseconds;
        if (elapsed < _nextProgressMs) return;
        _nextProgressMs = elapsed + (long)ProgressInterval.TotalMilliseconds;
        _progressShown = true;
        long bytes = reader.BytesRead;
        long? length = reader.FileLength;
        double rate = runner.PacketsRead / Math.Max(0.001, elapsed / 1000.0);
        var status = $"{System.IO.Path.GetFileName(path)}: {bytes:N0}{(length is long l ? $" of {l:N0}" : "")} bytes, " +
                     $"{runner.PacketsRead:N0} packets, {runner.ConnectionsFinished:N0} connections done, " +
                     $"{runner.OpenConnections:N0} open, {rate:N0} packets/s";
        var record = new ProgressRecord(0, ProgressActivity, status);
        if (length is long total && total > 0)
            record.PercentComplete = (int)Math.Clamp(bytes * 100 / total, 0, 100);
        WriteProgress(record);
    }

    private ErrorRecord FilterError(Exception e) =>
        new(e, ErrorIds.CaptureFilterInvalid, ErrorCategory.InvalidArgument, _options.CaptureFilter);

    /// <summary>The error record for a file that cannot be read (further), or null for a bug to let through.</summary>
    internal static ErrorRecord? MapReadError(Exception e, string path) => e switch
    {
        CaptureFormatException f => new ErrorRecord(f, f.Problem switch
        {
            CaptureProblem.NotACapture => ErrorIds.CaptureFileNotACapture,
            CaptureProblem.Truncated => ErrorIds.CaptureFileTruncated,
            CaptureProblem.Corrupt => ErrorIds.CaptureFileCorrupt,
            CaptureProblem.UnsupportedLinkType => ErrorIds.CaptureLinkTypeUnsupported,
            _ => ErrorIds.CaptureFileCorrupt,
        }, f.Problem == CaptureProblem.UnsupportedLinkType ? ErrorCategory.NotImplemented : ErrorCategory.InvalidData, path),
        FileNotFoundException or DirectoryNotFoundException =>
            new ErrorRecord(e, ErrorIds.CaptureFileNotFound, ErrorCategory.ObjectNotFound, path),
        UnauthorizedAccessException =>
            new ErrorRecord(e, ErrorIds.CaptureFileAccessDenied, ErrorCategory.PermissionDenied, path),
        IOException => new ErrorRecord(e, ErrorIds.CaptureFileReadFailed, ErrorCategory.ReadError, path),
        _ => null,
    };
}

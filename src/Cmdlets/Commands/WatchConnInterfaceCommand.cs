using System.Management.Automation;
using ConnTrack.Completers;
using ConnTrack.Engine;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Model;

namespace ConnTrack.Commands;

/// <summary>
/// <para type="synopsis">Tracks the connections on a live network interface and emits one Zeek conn.log record per connection as it ends.</para>
/// <para type="description">Captures through libpcap (Npcap on Windows). Packets are queued on the capture thread and tracked on
/// the pipeline thread; when the wire is quiet the clock still moves, so inactivity timers fire. The capture ends after
/// -Duration, after -Count packets, or on Ctrl+C; every connection still open is then emitted as well.</para>
/// </summary>
[Cmdlet(VerbsCommon.Watch, "ConnInterface")]
[OutputType(typeof(ConnInfo))]
public sealed class WatchConnInterfaceCommand : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private LiveCaptureSource? _source;
    private ConnTraceRunner? _runner;

    /// <summary>The capture device (see Get-ConnInterface), e.g. eth0 or lo.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    [ValidateNotNullOrEmpty]
    public string Interface { get; set; } = "";

    /// <summary>A BPF capture filter, e.g. 'tcp port 443'.</summary>
    [Parameter(Position = 1)]
    public string? Filter { get; set; }

    /// <summary>Stop capturing after this long.</summary>
    [Parameter]
    public TimeSpan Duration { get; set; }

    /// <summary>Stop capturing after this many packets.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long Count { get; set; }

    /// <summary>Put the interface in promiscuous mode.</summary>
    [Parameter]
    public SwitchParameter Promiscuous { get; set; }

    /// <summary>Bytes kept of each packet (libpcap snaplen).</summary>
    [Parameter]
    [ValidateRange(64, 262144)]
    public int SnapLength { get; set; } = 262_144;

    /// <summary>
    /// Count packets whose TCP/UDP checksum is wrong (Zeek's -C). Needed for traffic the capturing host sends itself
    /// when the NIC computes checksums (offloading), and always on the loopback device.
    /// </summary>
    [Parameter]
    public SwitchParameter IgnoreChecksums { get; set; }

    /// <summary>Engine options (timeouts, local networks, likely server ports...); Zeek's defaults when omitted.</summary>
    [Parameter]
    public ConnTrackOptions? Config { get; set; }

    protected override void BeginProcessing()
    {
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Duration)) && Duration <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Duration), Duration, "The duration must be positive."),
                "WatchConnInterfaceInvalidDuration", ErrorCategory.InvalidArgument, Duration));
        }

        var options = Config?.Clone() ?? new ConnTrackOptions();
        if (IgnoreChecksums.IsPresent)
            options.IgnoreChecksums = true;
        _runner = new ConnTraceRunner(options);
        var capture = new LiveCaptureOptions(Interface)
        {
            Filter = Filter,
            Promiscuous = Promiscuous.IsPresent,
            SnapLength = SnapLength,
        };
        try
        {
            _source = LiveCaptureSource.Open(capture);
        }
        catch (LiveCaptureException ex)
        {
            ThrowTerminatingError(LiveErrors.ToErrorRecord(ex, Interface));
            return;
        }
        foreach (var warning in _source.Warnings)
            WriteVerbose($"Capture setting not applied: {warning}");
        WriteVerbose($"Capturing on '{Interface}' (link type {_source.LinkType}){(string.IsNullOrEmpty(Filter) ? "" : $" with filter '{Filter}'")}.");
    }

    protected override void ProcessRecord()
    {
        if (_source is null || _runner is null)
            return;
        using var breakKey = ConsoleBreakWatcher.TryStart(Host?.Name, _stop);
        TimeSpan? duration = MyInvocation.BoundParameters.ContainsKey(nameof(Duration)) ? Duration : null;
        long? count = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : null;
        try
        {
            // Records are written here only: the pipeline thread drains the queue the capture thread fills.
            foreach (var record in _source.Track(_runner, duration, count, _stop.Token))
                WriteObject(ConnInfo.FromRecord(record));
        }
        catch (LiveCaptureException ex)
        {
            ThrowTerminatingError(LiveErrors.ToErrorRecord(ex, Interface));
        }
        WarnIfChecksumsOffloaded();
        WriteVerbose($"Capture on '{Interface}' ended: {_source.PacketsCaptured} packets captured, {_source.PacketsDropped} dropped " +
            $"(queue full), {_runner.ConnectionsFinished} connections.");
    }

    /// <summary>As Zeek's find-checksum-offloading: many bad checksums mean offloading, not a broken network.</summary>
    private void WarnIfChecksumsOffloaded()
    {
        if (_runner is null || _runner.Options.IgnoreChecksums || _runner.PacketsRead == 0)
            return;
        long bad = _runner.Weirds["bad_TCP_checksum"] + _runner.Weirds["bad_UDP_checksum"];
        if (bad * 20 >= _runner.PacketsRead && bad > 0)
        {
            WriteWarning($"{bad} of {_runner.PacketsRead} packets had a bad TCP/UDP checksum, most likely from checksum " +
                "offloading on the capturing host (always so on the loopback device); their contents were not counted. " +
                "Run with -IgnoreChecksums.");
        }
    }

    /// <summary>Ctrl+C or a pipeline stop: end the capture at once.</summary>
    protected override void StopProcessing()
    {
        _stop.Cancel();
        _source?.Stop();
    }

    public void Dispose()
    {
        _source?.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// In an interactive console, reads Ctrl+C as a key while the capture runs, so Ctrl+C ends the capture gracefully
    /// and the open connections are still written (a stopped pipeline can no longer write anything). Elsewhere
    /// (hosted, redirected input) Ctrl+C stops the pipeline as usual.
    /// </summary>
    private sealed class ConsoleBreakWatcher : IDisposable
    {
        private readonly bool _previous;
        private readonly CancellationTokenSource _done = new();
        private readonly Task _poller;

        private ConsoleBreakWatcher(CancellationTokenSource stop)
        {
            _previous = Console.TreatControlCAsInput;
            Console.TreatControlCAsInput = true;
            _poller = Task.Run(() => Poll(stop));
        }

        public static ConsoleBreakWatcher? TryStart(string? hostName, CancellationTokenSource stop)
        {
            if (hostName != "ConsoleHost" || Console.IsInputRedirected)
                return null;
            try
            {
                return new ConsoleBreakWatcher(stop);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or PlatformNotSupportedException)
            {
                return null;
            }
        }

        private void Poll(CancellationTokenSource stop)
        {
            try
            {
                while (!_done.IsCancellationRequested && !stop.IsCancellationRequested)
                {
                    while (Console.KeyAvailable)
                    {
                        var key = Console.ReadKey(intercept: true);
                        if (key.Key == ConsoleKey.C && (key.Modifiers & ConsoleModifiers.Control) != 0)
                        {
                            stop.Cancel();
                            return;
                        }
                    }
                    _done.Token.WaitHandle.WaitOne(100);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
            {
                // The console went away: nothing more to watch.
            }
        }

        public void Dispose()
        {
            _done.Cancel();
            try
            {
                _poller.Wait(TimeSpan.FromSeconds(1));
                Console.TreatControlCAsInput = _previous;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or AggregateException)
            {
                // Restoring the console mode is best effort.
            }
            _done.Dispose();
        }
    }
}

/// <summary>Maps live capture problems to ErrorRecords with stable ids and a recommended action.</summary>
internal static class LiveErrors
{
    public const string LibpcapNotFound = "LibpcapNotFound";
    public const string CapturePermissionDenied = "CapturePermissionDenied";
    public const string InterfaceNotFound = "InterfaceNotFound";
    public const string InvalidCaptureFilter = "InvalidCaptureFilter";
    public const string CaptureOpenFailed = "CaptureOpenFailed";
    public const string CaptureFailed = "CaptureFailed";

    public static ErrorRecord ToErrorRecord(LiveCaptureException ex, string? target)
    {
        (string id, ErrorCategory category, string action) = ex.Problem switch
        {
            LiveCaptureProblem.LibpcapNotFound => (LibpcapNotFound, ErrorCategory.NotInstalled,
                "Install libpcap (apt-get install libpcap0.8) or, on Windows, Npcap, then run the command again."),
            LiveCaptureProblem.PermissionDenied => (CapturePermissionDenied, ErrorCategory.PermissionDenied,
                "Run PowerShell as root (sudo pwsh) or give it CAP_NET_RAW and CAP_NET_ADMIN (setcap); on Windows run elevated."),
            LiveCaptureProblem.InterfaceNotFound => (InterfaceNotFound, ErrorCategory.ObjectNotFound,
                ex.AvailableInterfaces.Count > 0
                    ? $"Use one of: {string.Join(", ", ex.AvailableInterfaces)} (Get-ConnInterface lists them)."
                    : "Run Get-ConnInterface to list the capture devices."),
            LiveCaptureProblem.InvalidFilter => (InvalidCaptureFilter, ErrorCategory.InvalidArgument,
                "Fix the -Filter expression (BPF syntax, as tcpdump takes it)."),
            LiveCaptureProblem.OpenFailed => (CaptureOpenFailed, ErrorCategory.OpenError,
                "Check that the interface exists and is up (Get-ConnInterface)."),
            _ => (CaptureFailed, ErrorCategory.ReadError, "Check the interface and run the command again."),
        };
        return new ErrorRecord(ex, id, category, target ?? ex.InterfaceName)
        {
            ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = action },
        };
    }
}

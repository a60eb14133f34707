using System.Diagnostics;
using System.Net;
using ConnTrack.Engine.Records;
using SharpPcap;
using SharpPcap.LibPcap;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// Live packets from a capture device through SharpPcap/libpcap. libpcap calls back on SharpPcap's own capture
/// thread; each packet is copied there into a bounded ring of reused buffers (<see cref="PacketRing"/>), and the
/// consumer (one thread: the caller of <see cref="TryReadNext"/> or <see cref="Track"/>) reads them in place.
/// Stop or dispose to end the capture; the packets already queued can still be read.
/// </summary>
public sealed class LiveCaptureSource : IDisposable
{
    private readonly LibPcapLiveDevice _device;
    private readonly PacketRing _ring;
    private readonly object _stopGate = new();
    private bool _holdingSlot;
    private bool _stopped;
    private volatile LiveCaptureException? _captureError;

    private LiveCaptureSource(LibPcapLiveDevice device, LiveCaptureOptions options, LinkType linkType, IReadOnlyList<string> warnings)
    {
        _device = device;
        Options = options;
        LinkType = linkType;
        Warnings = warnings;
        _ring = new PacketRing(options.QueueCapacity);
    }

    public LiveCaptureOptions Options { get; }

    /// <summary>The device's link layer (LINKTYPE_ value), the same for every packet.</summary>
    public LinkType LinkType { get; }

    /// <summary>Settings the device refused while opening (for example nanosecond timestamps), as messages.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Packets handed over by libpcap and queued.</summary>
    public long PacketsCaptured => _ring.Enqueued;

    /// <summary>Packets lost because the consumer fell behind (the queue was full).</summary>
    public long PacketsDropped => _ring.Dropped;

    /// <summary>Packets read by the consumer.</summary>
    public long PacketsRead { get; private set; }

    /// <summary>True once <see cref="Stop"/> or <see cref="Dispose"/> ran, or the capture failed.</summary>
    public bool IsStopped { get { lock (_stopGate) return _stopped; } }

    /// <summary>Opens <see cref="LiveCaptureOptions.Interface"/>, applies the filter and starts capturing.</summary>
    /// <exception cref="LiveCaptureException">libpcap missing, no permission, no such device, bad filter, open failure.</exception>
    public static LiveCaptureSource Open(LiveCaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SnapLength < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.SnapLength, "The snap length must be positive.");

        var devices = GetDevices();
        var device = FindDevice(devices, options.Interface)
            ?? throw new LiveCaptureException(LiveCaptureProblem.InterfaceNotFound,
                $"There is no capture device named '{options.Interface}'. The devices are: {string.Join(", ", devices.Select(d => d.Name))}.",
                availableInterfaces: devices.Select(d => d.Name).ToArray(), interfaceName: options.Interface);

        var warnings = new List<string>();
        var config = new DeviceConfiguration
        {
            Mode = options.Promiscuous ? DeviceModes.Promiscuous : DeviceModes.None,
            Snaplen = options.SnapLength,
            ReadTimeout = (int)Math.Clamp(options.ReadTimeout.TotalMilliseconds, 1, int.MaxValue),
            Immediate = options.Immediate,
            TimestampResolution = TimestampResolution.Nanosecond,
        };
        // Without a handler SharpPcap throws for any refused setting; the optional ones are only noted.
        config.ConfigurationFailed += (_, e) => warnings.Add($"{e.Property}: {e.Message}");

        try
        {
            device.Open(config);
        }
        catch (Exception ex) when (ex is not LiveCaptureException)
        {
            SafeClose(device);
            throw ClassifyOpenError(ex, options.Interface);
        }

        try
        {
            if (!string.IsNullOrWhiteSpace(options.Filter))
                device.Filter = options.Filter;
        }
        catch (Exception ex)
        {
            SafeClose(device);
            throw new LiveCaptureException(LiveCaptureProblem.InvalidFilter,
                $"The capture filter '{options.Filter}' is not valid BPF: {LiveCaptureException.FirstLine(LiveCaptureException.Innermost(ex).Message)}",
                ex, interfaceName: options.Interface);
        }

        var source = new LiveCaptureSource(device, options, MapLinkType((int)device.LinkType), warnings);
        device.OnPacketArrival += source.OnPacketArrival;
        device.OnCaptureStopped += source.OnCaptureStopped;
        try
        {
            device.StartCapture();
        }
        catch (Exception ex)
        {
            SafeClose(device);
            throw new LiveCaptureException(LiveCaptureProblem.CaptureFailed,
                $"Capture on '{options.Interface}' could not start: {LiveCaptureException.FirstLine(ex.Message)}", ex,
                interfaceName: options.Interface);
        }
        return source;
    }

    /// <summary>
    /// The capture devices. With <paramref name="readLinkTypes"/> each device is opened for a moment to learn its link
    /// type (which needs capture rights; where opening fails the link type stays null).
    /// </summary>
    /// <exception cref="LiveCaptureException">libpcap missing.</exception>
    public static IReadOnlyList<CaptureDeviceInfo> ListDevices(bool readLinkTypes = false)
    {
        var list = new List<CaptureDeviceInfo>();
        foreach (var device in GetDevices())
        {
            var addresses = new List<IPAddress>();
            foreach (var a in device.Addresses)
            {
                if (a.Addr?.ipAddress is IPAddress ip)
                    addresses.Add(ip);
            }
            int? linkType = null;
            if (readLinkTypes)
            {
                try
                {
                    device.Open(new DeviceConfiguration { Snaplen = 128, ReadTimeout = 10 });
                    linkType = (int)MapLinkType((int)device.LinkType);
                }
                catch (Exception ex) when (ex is PcapException or InvalidOperationException)
                {
                    // No rights or not openable: the link type stays unknown.
                }
                finally
                {
                    SafeClose(device);
                }
            }
            list.Add(new CaptureDeviceInfo(device.Name, device.Description, addresses, device.Flags, linkType));
        }
        return list;
    }

    /// <summary>
    /// Hands out the next queued packet without waiting, valid until the next call (the same contract as
    /// <see cref="CaptureReader.TryReadNext"/>). False when none is queued now.
    /// </summary>
    public bool TryReadNext(out RawFrame frame)
    {
        if (_holdingSlot)
        {
            _ring.Release();
            _holdingSlot = false;
        }
        if (!_ring.TryPeek(out var data, out int originalLength, out long timestamp))
        {
            frame = default;
            return false;
        }
        _holdingSlot = true;
        PacketsRead++;
        frame = new RawFrame(data, timestamp, originalLength, LinkType, PacketsRead - 1);
        return true;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a packet; false when none came, or the capture stopped with none left.</summary>
    public bool WaitForPacket(TimeSpan timeout)
    {
        ThrowIfFailed();
        return _ring.WaitForPacket(timeout);
    }

    /// <summary>
    /// Feeds the capture into <paramref name="runner"/> on the calling thread and yields records as connections
    /// end, until <paramref name="duration"/> passes, <paramref name="maxPackets"/> packets were read,
    /// <paramref name="cancel"/> fires or the capture stops; then the capture stops, the packets still queued are
    /// tracked and every open connection is flushed (<see cref="ConnTraceRunner.Finish"/>). When the wire is quiet
    /// for <see cref="LiveCaptureOptions.IdleTick"/>, the runner's clock moves to the wall clock so timers fire.
    /// Disposing the enumerator early stops the capture.
    /// </summary>
    public IEnumerable<ConnRecord> Track(ConnTraceRunner runner, TimeSpan? duration = null, long? maxPackets = null,
        CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var clock = Stopwatch.StartNew();
        long lastPacketTime = 0;
        using (cancel.Register(static s => ((PacketRing)s!).Interrupt(), _ring))
        {
            try
            {
                while (!cancel.IsCancellationRequested && !LimitReached(maxPackets))
                {
                    var wait = Options.IdleTick;
                    if (duration is TimeSpan d)
                    {
                        var left = d - clock.Elapsed;
                        if (left <= TimeSpan.Zero)
                            break;
                        if (left < wait)
                            wait = left;
                    }

                    if (WaitForPacket(wait))
                    {
                        while (!LimitReached(maxPackets) && TryReadNext(out var frame))
                        {
                            if (frame.Timestamp > lastPacketTime)
                                lastPacketTime = frame.Timestamp;
                            runner.ProcessFrame(frame);
                        }
                    }
                    else if (!cancel.IsCancellationRequested)
                    {
                        if (IsStopped)
                            break;
                        runner.AdvanceTime(Math.Max(NowNanos(), lastPacketTime));
                    }

                    foreach (var record in runner.TakeFinished())
                        yield return record;
                }
            }
            finally
            {
                Stop();
            }
        }

        // The capture is stopped: track what is still queued, then end every connection.
        while (!LimitReached(maxPackets) && TryReadNext(out var rest))
            runner.ProcessFrame(rest);
        ReleaseHeldSlot();
        foreach (var record in runner.Finish())
            yield return record;
        ThrowIfFailed();
    }

    /// <summary>Stops the capture and closes the device; queued packets can still be read. Safe to call twice, from any thread.</summary>
    public void Stop()
    {
        lock (_stopGate)
        {
            if (_stopped)
                return;
            _stopped = true;
        }
        try
        {
            if (_device.Started)
                _device.StopCapture();
        }
        catch (Exception ex) when (ex is PcapException or InvalidOperationException)
        {
            // Stopping a capture that already ended on its own: nothing left to stop.
        }
        finally
        {
            _device.OnPacketArrival -= OnPacketArrival;
            _device.OnCaptureStopped -= OnCaptureStopped;
            SafeClose(_device);
            _ring.Close();
        }
    }

    public void Dispose() => Stop();

    /// <summary>Wall-clock time in ns since the Unix epoch, on the same clock as libpcap's host timestamps.</summary>
    public static long NowNanos() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>libpcap's DLT_ value (what pcap_datalink gives) as the LINKTYPE_ value files and the decoder use.</summary>
    internal static LinkType MapLinkType(int dlt) => dlt switch
    {
        12 or 14 => LinkType.Raw, // DLT_RAW is 12 on most systems, 14 on OpenBSD; LINKTYPE_RAW is 101
        _ => (LinkType)dlt,
    };

    /// <summary>Turns what SharpPcap threw while opening a device into a message that says what to do.</summary>
    internal static LiveCaptureException ClassifyOpenError(Exception ex, string interfaceName)
    {
        if (LiveCaptureException.IsLibraryMissing(ex))
            return LiveCaptureException.LibraryMissing(ex);
        string detail = LiveCaptureException.FirstLine(LiveCaptureException.Innermost(ex).Message);
        var error = ex is PcapException pe ? pe.Error : PcapError.Generic;
        if (error is PcapError.PermissionDenied or PcapError.PromiscuousPermissionDenied
            || detail.Contains("permission", StringComparison.OrdinalIgnoreCase)
            || detail.Contains("not permitted", StringComparison.OrdinalIgnoreCase))
        {
            return new LiveCaptureException(LiveCaptureProblem.PermissionDenied,
                $"No permission to capture on '{interfaceName}' ({detail}). {LiveCaptureException.PermissionHint}", ex,
                interfaceName: interfaceName);
        }
        if (error == PcapError.NoSuchDevice)
        {
            return new LiveCaptureException(LiveCaptureProblem.InterfaceNotFound,
                $"There is no capture device named '{interfaceName}' ({detail}).", ex, interfaceName: interfaceName);
        }
        if (error == PcapError.InterfaceNotUp)
        {
            return new LiveCaptureException(LiveCaptureProblem.OpenFailed,
                $"The device '{interfaceName}' is down; bring it up first (ip link set {interfaceName} up). ({detail})", ex,
                interfaceName: interfaceName);
        }
        return new LiveCaptureException(LiveCaptureProblem.OpenFailed,
            $"The device '{interfaceName}' could not be opened for capture: {detail}", ex, interfaceName: interfaceName);
    }

    private static LibPcapLiveDevice[] GetDevices()
    {
        try
        {
            return LibPcapLiveDeviceList.New().ToArray();
        }
        catch (Exception ex) when (LiveCaptureException.IsLibraryMissing(ex))
        {
            throw LiveCaptureException.LibraryMissing(ex);
        }
        catch (PcapException ex) when (ex.Message.Contains("permission", StringComparison.OrdinalIgnoreCase))
        {
            throw new LiveCaptureException(LiveCaptureProblem.PermissionDenied,
                $"No permission to list the capture devices ({LiveCaptureException.FirstLine(ex.Message)}). {LiveCaptureException.PermissionHint}", ex);
        }
    }

    private static LibPcapLiveDevice? FindDevice(LibPcapLiveDevice[] devices, string name)
    {
        foreach (var d in devices)
        {
            if (string.Equals(d.Name, name, StringComparison.Ordinal))
                return d;
        }
        foreach (var d in devices)
        {
            if (string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
                return d;
        }
        return null;
    }

    private bool LimitReached(long? maxPackets) => maxPackets is long max && PacketsRead >= max;

    private void ReleaseHeldSlot()
    {
        if (_holdingSlot)
        {
            _ring.Release();
            _holdingSlot = false;
        }
    }

    private void ThrowIfFailed()
    {
        if (_captureError is { } error)
            throw error;
    }

    // On SharpPcap's capture thread: copy and queue, nothing else.
    private void OnPacketArrival(object sender, PacketCapture e)
    {
        var header = e.Header;
        var data = e.Data;
        int originalLength = header is PcapHeader ph ? (int)Math.Min(ph.PacketLength, int.MaxValue) : data.Length;
        long timestamp = (long)(header.Timeval.Value * 1_000_000_000m);
        _ring.TryEnqueue(data, originalLength, timestamp);
    }

    private void OnCaptureStopped(object sender, CaptureStoppedEventStatus status)
    {
        if (status == CaptureStoppedEventStatus.ErrorWhileCapturing)
        {
            _captureError = new LiveCaptureException(LiveCaptureProblem.CaptureFailed,
                $"The capture on '{Options.Interface}' stopped with an error: {_device.LastError}", interfaceName: Options.Interface);
        }
        lock (_stopGate)
            _stopped = true;
        _ring.Close();
    }

    private static void SafeClose(ICaptureDevice device)
    {
        try
        {
            device.Close();
        }
        catch (Exception ex) when (ex is PcapException or InvalidOperationException)
        {
            // Already closed.
        }
    }
}

namespace ConnTrack.Engine.Capture;

/// <summary>How to capture on a device.</summary>
public sealed class LiveCaptureOptions
{
    public LiveCaptureOptions(string interfaceName)
    {
        Interface = interfaceName;
    }

    /// <summary>The device name as libpcap knows it ("eth0", "lo", "\Device\NPF_{...}").</summary>
    public string Interface { get; }

    /// <summary>A BPF expression; null or empty captures everything.</summary>
    public string? Filter { get; set; }

    public bool Promiscuous { get; set; }

    /// <summary>Bytes kept of each packet (libpcap's snaplen); 262144 is tcpdump's default.</summary>
    public int SnapLength { get; set; } = 262_144;

    /// <summary>How long libpcap may hold packets before handing a batch over (ignored in immediate mode).</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Deliver each packet as it arrives instead of in buffered batches.</summary>
    public bool Immediate { get; set; } = true;

    /// <summary>Packets that may wait between the capture thread and the consumer; past it they are dropped and counted.</summary>
    public int QueueCapacity { get; set; } = 4096;

    /// <summary>With no packet for this long the consumer moves the tracker's clock to now, so timers fire.</summary>
    public TimeSpan IdleTick { get; set; } = TimeSpan.FromMilliseconds(250);
}

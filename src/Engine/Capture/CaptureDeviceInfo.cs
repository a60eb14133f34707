using System.Net;

namespace ConnTrack.Engine.Capture;

/// <summary>One capture device as libpcap lists it.</summary>
public sealed class CaptureDeviceInfo
{
    public CaptureDeviceInfo(string name, string? description, IReadOnlyList<IPAddress> addresses, uint flags, int? linkType)
    {
        Name = name;
        Description = description;
        Addresses = addresses;
        Flags = flags;
        LinkType = linkType;
    }

    // pcap_if_t flags (pcap/pcap.h).
    internal const uint PcapIfLoopback = 0x1;
    internal const uint PcapIfUp = 0x2;
    internal const uint PcapIfRunning = 0x4;

    /// <summary>The name to capture on (pass it to <see cref="LiveCaptureOptions.Interface"/>).</summary>
    public string Name { get; }
    public string? Description { get; }
    /// <summary>The IPv4/IPv6 addresses of the device.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; }
    /// <summary>The raw PCAP_IF_* flags.</summary>
    public uint Flags { get; }
    public bool IsLoopback => (Flags & PcapIfLoopback) != 0;
    public bool IsUp => (Flags & PcapIfUp) != 0;
    public bool IsRunning => (Flags & PcapIfRunning) != 0;

    /// <summary>
    /// The LINKTYPE_ value of the device's link layer (1 = Ethernet, 113 = Linux cooked, ...); null when it was not
    /// asked for or the device could not be opened to read it (libpcap gives it only for an open device).
    /// </summary>
    public int? LinkType { get; }

    /// <summary>The link type's name when it is one of <see cref="Capture.LinkType"/>, else its number.</summary>
    public string? LinkTypeName => LinkType is int lt
        ? (Enum.IsDefined(typeof(LinkType), lt) ? ((LinkType)lt).ToString() : lt.ToString(System.Globalization.CultureInfo.InvariantCulture))
        : null;

    public override string ToString() => Name;
}

using System.Net;
using ConnTrack.Engine.Capture;

namespace ConnTrack.Model;

/// <summary>A capture device, as Get-ConnInterface lists it: the names Watch-ConnInterface -Interface takes.</summary>
public sealed class ConnInterfaceInfo
{
    public ConnInterfaceInfo(string name, string? description, IPAddress[] addresses, string? linkType,
        bool isLoopback, bool isUp, bool isRunning, uint flags)
    {
        Name = name;
        Description = description;
        Addresses = addresses;
        LinkType = linkType;
        IsLoopback = isLoopback;
        IsUp = isUp;
        IsRunning = isRunning;
        Flags = flags;
    }

    /// <summary>The device name to pass to Watch-ConnInterface -Interface.</summary>
    public string Name { get; }
    public string? Description { get; }
    public IPAddress[] Addresses { get; }
    /// <summary>The link layer ("Ethernet", "LinuxSll", "Raw", or a LINKTYPE_ number); empty when the device could not be opened to read it.</summary>
    public string? LinkType { get; }
    public bool IsLoopback { get; }
    public bool IsUp { get; }
    public bool IsRunning { get; }
    /// <summary>libpcap's PCAP_IF_* flags.</summary>
    public uint Flags { get; }

    internal static ConnInterfaceInfo FromDevice(CaptureDeviceInfo d) =>
        new(d.Name, d.Description, d.Addresses.ToArray(), d.LinkTypeName, d.IsLoopback, d.IsUp, d.IsRunning, d.Flags);

    public override string ToString() => Name;
}

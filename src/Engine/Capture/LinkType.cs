namespace ConnTrack.Engine.Capture;

/// <summary>
/// LINKTYPE_ values from the pcap/pcapng link-layer header type registry that the decoder understands.
/// (The values are the file-format ones, not the platform DLT_ ones.)
/// </summary>
public enum LinkType
{
    Null = 0,            // BSD loopback: 4-byte address family in host byte order
    Ethernet = 1,
    Ppp = 9,
    PppHdlc = 50,
    Raw = 101,           // raw IPv4 or IPv6, version from the first nibble
    Ieee80211 = 105,
    Loop = 108,          // OpenBSD loopback: 4-byte address family in network byte order
    LinuxSll = 113,
    Ieee80211Radiotap = 127,
    Ipv4 = 228,
    Ipv6 = 229,
    LinuxSll2 = 276,
}

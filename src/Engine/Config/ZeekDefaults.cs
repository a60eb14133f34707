using System.Net;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Config;

/// <summary>
/// Zeek 9.1's defaults as a user gets them from plain <c>zeek -r</c> with the default scripts: the facts
/// are Zeek's (init-bare.zeek, base/utils/site.zeek, base/protocols/conn/inactivity.zeek and every
/// analyzer's registered well-known ports); the code is ours.
/// </summary>
public static class ZeekDefaults
{
    /// <summary>likely_server_ports with every protocol analyzer loaded (the union of their well-known ports).</summary>
    public static readonly string[] LikelyServerPortNames =
    {
        "21/tcp", "22/tcp", "25/tcp", "53/tcp", "79/tcp", "80/tcp", "81/tcp", "88/tcp", "135/tcp", "139/tcp",
        "143/tcp", "389/tcp", "443/tcp", "445/tcp", "465/tcp", "502/tcp", "514/tcp", "563/tcp", "585/tcp",
        "587/tcp", "614/tcp", "631/tcp", "636/tcp", "989/tcp", "990/tcp", "992/tcp", "993/tcp", "995/tcp",
        "1080/tcp", "1434/tcp", "1883/tcp", "2811/tcp", "3128/tcp", "3268/tcp", "3306/tcp", "3389/tcp",
        "5222/tcp", "5223/tcp", "5269/tcp", "5432/tcp", "6379/tcp", "6666/tcp", "6667/tcp", "6668/tcp",
        "6669/tcp", "8000/tcp", "8080/tcp", "8888/tcp", "20000/tcp",
        "53/udp", "67/udp", "88/udp", "123/udp", "137/udp", "161/udp", "162/udp", "389/udp", "443/udp",
        "514/udp", "1812/udp", "2123/udp", "2152/udp", "3389/udp", "3544/udp", "4011/udp", "4754/udp",
        "4789/udp", "5060/udp", "5072/udp", "5353/udp", "5355/udp", "6081/udp", "20000/udp",
    };

    /// <summary>Site::private_address_space, which Zeek copies into Site::local_nets by default.</summary>
    public static readonly string[] PrivateAddressSpace =
    {
        "0.0.0.0/8", "2002::/24",
        "10.0.0.0/8", "2002:a00::/24",
        "100.64.0.0/10", "2002:6440::/26",
        "127.0.0.0/8", "2002:7f00::/24",
        "169.254.0.0/16", "2002:a9fe::/32",
        "172.16.0.0/12", "2002:ac10::/28",
        "192.0.0.0/24", "2002:c000::/40",
        "192.0.2.0/24", "2002:c000:200::/40",
        "192.168.0.0/16", "2002:c0a8::/32",
        "198.18.0.0/15", "2002:c612::/31",
        "198.51.100.0/24", "2002:c633:6400::/40",
        "203.0.113.0/24", "2002:cb00:7100::/40",
        // Multicast that never leaves a site (RFC 5771 local network control, RFC 2365 administratively scoped):
        // Zeek 9.1 counts these as local (the corpus shows 224.0.0.9/.251/.252 and 239.x local, 224.2.127.254 not).
        "224.0.0.0/24", "2002:e000::/40", "239.0.0.0/8", "2002:ef00::/24",
        "240.0.0.0/4", "2002:f000::/20",
        "255.255.255.255/32", "2002:ffff:ffff::/48",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32",
        "fc00::/7", "fe80::/10",
    };

    /// <summary>port_inactivity_timeouts from base/protocols/conn/inactivity.zeek: interactive services get an hour.</summary>
    public static Dictionary<PortSpec, TimeSpan> PortInactivityTimeouts() => new()
    {
        [new PortSpec(21, TransportProto.Tcp)] = TimeSpan.FromHours(1),
        [new PortSpec(22, TransportProto.Tcp)] = TimeSpan.FromHours(1),
        [new PortSpec(23, TransportProto.Tcp)] = TimeSpan.FromHours(1),
        [new PortSpec(513, TransportProto.Tcp)] = TimeSpan.FromHours(1),
    };

    public static HashSet<PortSpec> LikelyServerPorts() => LikelyServerPortNames.Select(PortSpec.Parse).ToHashSet();

    public static List<IPNetwork> LocalNets() => PrivateAddressSpace.Select(IPNetwork.Parse).ToList();
}

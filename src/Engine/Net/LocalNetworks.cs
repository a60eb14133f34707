using System.Runtime.CompilerServices;
using System.Net;

namespace ConnTrack.Engine.Net;

/// <summary>
/// Membership test for Site::local_nets over <see cref="IPAddr128"/> values. IPv4 networks match IPv4
/// addresses only and IPv6 networks IPv6 addresses only, as in Zeek (an IPv4 address never falls in ::/0).
/// A handful of prefixes: a linear scan over masks is faster than anything clever.
/// </summary>
public sealed class LocalNetworks
{
    private readonly (ulong hi, ulong lo, ulong maskHi, ulong maskLo, bool v4)[] _nets;

    public LocalNetworks(IEnumerable<IPNetwork> networks)
    {
        var list = new List<(ulong, ulong, ulong, ulong, bool)>();
        foreach (var net in networks)
        {
            bool v4 = net.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
            var baseAddr = IPAddr128.FromIPAddress(net.BaseAddress);
            int bits = v4 ? 96 + net.PrefixLength : net.PrefixLength;
            ulong maskHi = bits >= 64 ? ulong.MaxValue : bits == 0 ? 0 : ulong.MaxValue << (64 - bits);
            ulong maskLo = bits <= 64 ? 0 : bits >= 128 ? ulong.MaxValue : ulong.MaxValue << (128 - bits);
            list.Add((baseAddr.Hi & maskHi, baseAddr.Lo & maskLo, maskHi, maskLo, v4));
        }
        _nets = list.ToArray();
    }

    /// <summary>True when no networks are configured: Zeek then leaves local_orig/local_resp unset.</summary>
    public bool IsEmpty => _nets.Length == 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public bool Contains(IPAddr128 address)
    {
        bool v4 = address.IsIPv4;
        foreach (var n in _nets)
        {
            if (n.v4 == v4 && (address.Hi & n.maskHi) == n.hi && (address.Lo & n.maskLo) == n.lo)
                return true;
        }
        return false;
    }
}

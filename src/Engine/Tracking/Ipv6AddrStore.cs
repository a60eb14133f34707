using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The IPv6 addresses of the open connections, each held once with a count of the keys using it (an IPv4
/// connection keeps its two addresses inline in its key; an IPv6 one keeps the two addresses' ids from here in the
/// same bytes). Flows share addresses (a client's connections, a server's clients), so this costs per distinct
/// address, not per connection.
/// </summary>
internal sealed class Ipv6AddrStore : CountedInterner<IPAddr128>
{
}

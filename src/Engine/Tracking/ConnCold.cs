using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The part of a connection that only data and FINs need, created on first use and dropped with the connection:
/// the TCP endpoints' reassembly bookkeeping and FIN sequences (a 120-byte object). A SYN-only or handshake-only
/// connection never has one. The rarer values are one step further, in <see cref="Rare"/>.
/// </summary>
internal sealed class ConnCold
{
    public TcpEndpointCold First = new(), Second = new();

    /// <summary>The rarest values, null until needed.</summary>
    public ConnRare? Rare;

    public ConnRare RarePart => Rare ??= new ConnRare();
}

/// <summary>
/// What few connections need: the TCP endpoints' SYN/RST history sequences and logarithmic counters
/// (retransmissions, zero windows, checksum errors, gaps), missed bytes, history letters beyond the inline ones, timers beyond
/// the inline ones, the upper halves of the packet and byte counters once one passes 2^32, and the link context
/// when the tracker's table of distinct ones is full, and the inactivity timeout when it has too many distinct ones.
/// </summary>
internal sealed class ConnRare
{
    public TcpEndpointRare First, Second;
    /// <summary>Bytes of acked content gaps (conn.log's missed_bytes).</summary>
    public ulong MissedBytes;

    public byte[]? HistoryMore;
    public int HistoryMoreLength;

    public PendingTimer[]? TimersMore;

    // Upper 32 bits of the counters (orig packets, resp packets, orig IP bytes, resp IP bytes).
    public uint OrigPktsHi, RespPktsHi, OrigIpBytesHi, RespIpBytesHi;

    /// <summary>The link context when it is not in the tracker's table (<see cref="LinkContexts.InCold"/>).</summary>
    public LinkContext Link;

    /// <summary>The inactivity timeout when the tracker knows too many distinct ones (<see cref="Connection.TimeoutInRare"/>).</summary>
    public long InactivityTimeout;
}

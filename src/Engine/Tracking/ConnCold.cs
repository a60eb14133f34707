using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// The rarely needed part of a connection, created on first use and dropped with the connection: the TCP
/// endpoints' cold parts (reassembly bookkeeping, FIN sequence, history sequences, logarithmic counters),
/// missed bytes, history letters beyond the inline ones, timers beyond the inline ones, the upper halves of the
/// packet and byte counters once one passes 2^32, and the link context when the tracker's table of distinct
/// ones is full. A SYN-only or handshake-only connection never has one.
/// </summary>
internal sealed class ConnCold
{
    public TcpEndpointCold First = new(), Second = new();
    /// <summary>Bytes of acked content gaps (conn.log's missed_bytes).</summary>
    public ulong MissedBytes;

    public byte[]? HistoryMore;
    public int HistoryMoreLength;

    public PendingTimer[]? TimersMore;

    // Upper 32 bits of the counters (orig packets, resp packets, orig IP bytes, resp IP bytes).
    public uint OrigPktsHi, RespPktsHi, OrigIpBytesHi, RespIpBytesHi;

    /// <summary>The link context when it is not in the tracker's table (<see cref="LinkContexts.InCold"/>).</summary>
    public LinkContext Link;
}

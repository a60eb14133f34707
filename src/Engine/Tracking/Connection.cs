using System.Text;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// One tracked connection: identity (with the originator/responder roles, which may flip), times, history,
/// the ConnSize counters and the per-transport state. Allocated once per connection, never per packet.
/// </summary>
internal sealed class Connection
{
    public Connection(ConnTracker tracker, in FlowKey key, TransportProto kind, byte protocol, long startTime)
    {
        Tracker = tracker;
        Key = key;
        Kind = kind;
        Protocol = protocol;
        StartTime = LastTime = startTime;
    }

    public readonly ConnTracker Tracker;
    public readonly FlowKey Key;
    public readonly TransportProto Kind;
    public readonly byte Protocol;

    public IPAddr128 OrigAddr, RespAddr;
    public ushort OrigPort, RespPort;
    /// <summary>The VLAN ids of the first packet (Zeek's c$vlan / c$inner_vlan), null when untagged.</summary>
    public ushort? Vlan, InnerVlan;

    /// <summary>Link-layer addresses of the first packet (Zeek's orig_l2_addr/resp_l2_addr), 0 when none.</summary>
    public ulong OrigL2, RespL2;
    public bool HasL2;
    public ushort? PppoeSessionId;

    public long StartTime;
    public long LastTime;

    // History: letters in order, plus the "seen once" bits (orig in the low 16, resp in the high 16).
    private StringBuilder? _history;
    public uint HistSeen;

    // ConnSize analyzer.
    public ulong OrigPkts, OrigIpBytes, RespPkts, RespIpBytes;

    // UDP and ICMP payload byte counts; -1 until the side sent something (UDP_INACTIVE).
    public long OrigLen = -1, RespLen = -1;
    public uint OrigChecksumCount, OrigChecksumThreshold = 1, RespChecksumCount, RespChecksumThreshold = 1;

    public TcpSession? Tcp;
    public ulong MissedBytes;

    // Timers: a timer carries the generation it was armed in; bumping a generation cancels.
    public long InactivityTimeout;
    public int InactivityGeneration;
    public int SessionTimerGeneration;
    public bool Removed;

    public string History => _history?.ToString() ?? "";

    public void AddHistory(char code) => (_history ??= new StringBuilder(12)).Append(code);

    /// <summary>Zeek's Connection::CheckHistory: adds the letter the first time; returns true if it was already seen.</summary>
    public bool CheckHistory(uint mask, char code)
    {
        if ((HistSeen & mask) == 0)
        {
            HistSeen |= mask;
            AddHistory(code);
            return false;
        }
        return true;
    }

    /// <summary>Adds <paramref name="code"/> at the 1st, 10th, 100th ... occurrence (the c, g, t, w letters).</summary>
    public bool ScaledHistoryEntry(char code, ref uint counter, ref uint threshold)
    {
        if (++counter != threshold) return false;
        AddHistory(code);
        uint next = threshold * 10;
        if (next <= threshold) counter = 0; // wrapped: keep the threshold
        else threshold = next;
        return true;
    }

    private void SwapSides()
    {
        (OrigAddr, RespAddr) = (RespAddr, OrigAddr);
        (OrigPort, RespPort) = (RespPort, OrigPort);
        (OrigL2, RespL2) = (RespL2, OrigL2);
        (OrigPkts, RespPkts) = (RespPkts, OrigPkts);
        (OrigIpBytes, RespIpBytes) = (RespIpBytes, OrigIpBytes);
        (OrigLen, RespLen) = (RespLen, OrigLen);
        Tcp?.FlipRoles();
    }

    /// <summary>Swaps originator and responder and marks the history with '^' (Zeek's Connection::FlipRoles).</summary>
    public void FlipRoles()
    {
        SwapSides();
        AddHistory('^');
    }

    /// <summary>
    /// The flip of a connection first seen with a SYN-ACK, once an ack or data shows who the client is:
    /// what was recorded so far is re-attributed, so the history becomes '^' plus the old letters with
    /// their case (direction) swapped.
    /// </summary>
    public void FlipRolesRewritingHistory()
    {
        var old = History;
        SwapSides();
        HistSeen = (HistSeen << 16) | (HistSeen >> 16);
        _history = new StringBuilder(old.Length + 12).Append('^');
        foreach (var c in old)
            _history.Append(char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
    }
}

using System.Runtime.CompilerServices;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// One tracked connection: identity (with the originator/responder roles, which may flip), times, history,
/// the ConnSize counters and the per-transport state. Allocated once per connection, never per packet;
/// a TCP connection is a <see cref="TcpSession"/> (the TCP state in the same object).
/// </summary>
internal class Connection
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

    // The originator is one of the key's two endpoints (A unless _origIsB), so the addresses are not stored twice.
    private bool _origIsB;
    public IPAddr128 OrigAddr => _origIsB ? Key.AddrB : Key.AddrA;
    public IPAddr128 RespAddr => _origIsB ? Key.AddrA : Key.AddrB;
    public ushort OrigPort => _origIsB ? Key.PortB : Key.PortA;
    public ushort RespPort => _origIsB ? Key.PortA : Key.PortB;

    /// <summary>Makes the key endpoint (<paramref name="addr"/>, <paramref name="port"/>) the originator.</summary>
    public void SetOriginator(in IPAddr128 addr, ushort port) => _origIsB = !(addr == Key.AddrA && port == Key.PortA);
    /// <summary>The VLAN ids of the first packet (Zeek's c$vlan / c$inner_vlan), null when untagged.</summary>
    public ushort? Vlan, InnerVlan;

    /// <summary>Link-layer addresses of the first packet (Zeek's orig_l2_addr/resp_l2_addr), 0 when none.</summary>
    public ulong OrigL2, RespL2;
    public bool HasL2;
    public ushort? PppoeSessionId;

    public long StartTime;
    public long LastTime;

    // History: letters in order (ASCII; the first 16 inline, any more in a side array), plus the "seen once"
    // bits (orig in the low 16, resp in the high 16). The string is built only for the record.
    private InlineHistory _history;
    private byte[]? _historyMore;
    private int _historyLength;
    public uint HistSeen;

    // ConnSize analyzer.
    public ulong OrigPkts, OrigIpBytes, RespPkts, RespIpBytes;

    /// <summary>The TCP state: this connection itself when it is TCP, else null.</summary>
    public TcpSession? Tcp => this as TcpSession;

    public long InactivityTimeout;
    /// <summary>The timers pending for this connection; all cancelled when it is removed.</summary>
    public ConnTimerSet Timers;
    public bool Removed;

    /// <summary>The history letters so far ("" when none).</summary>
    public string History => _historyLength == 0 ? "" : string.Create(_historyLength, this, static (chars, c) => c.CopyHistory(chars));

    public int HistoryLength => _historyLength;

    private void CopyHistory(Span<char> into)
    {
        int inline = Math.Min(_historyLength, InlineHistory.Capacity);
        for (int i = 0; i < inline; i++)
            into[i] = (char)_history[i];
        for (int i = inline; i < _historyLength; i++)
            into[i] = (char)_historyMore![i - InlineHistory.Capacity];
    }

    public void AddHistory(char code)
    {
        int n = _historyLength;
        if (n < InlineHistory.Capacity)
            _history[n] = (byte)code;
        else
            AddHistoryBeyondInline(n - InlineHistory.Capacity, code);
        _historyLength = n + 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddHistoryBeyondInline(int index, char code)
    {
        if (_historyMore is null || index == _historyMore.Length)
            Array.Resize(ref _historyMore, Math.Max(16, index * 2));
        _historyMore[index] = (byte)code;
    }

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

    /// <summary>
    /// Adds <paramref name="code"/> at the 1st, 10th, 100th ... occurrence (the c, g, t, w letters), as Zeek's
    /// ScaledHistoryEntry with its 32-bit threshold. The threshold is kept as its step in
    /// <see cref="ScaledThresholds"/> (a byte instead of a uint).
    /// </summary>
    public bool ScaledHistoryEntry(char code, ref uint counter, ref byte scale)
    {
        var thresholds = ScaledThresholds;
        uint threshold = thresholds[scale];
        if (++counter != threshold) return false;
        AddHistory(code);
        if (scale + 1 == thresholds.Length) counter = 0; // the next threshold wraps: keep this one
        else scale++;
        return true;
    }

    /// <summary>
    /// Zeek's successive thresholds, each the previous times 10 in 32 bits, up to the last one whose successor
    /// wraps below it (10^10 mod 2^32 = 1410065408; times 10 again gives 1215752192, smaller).
    /// </summary>
    internal static ReadOnlySpan<uint> ScaledThresholds =>
        [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 1_410_065_408];

    private void SwapSides()
    {
        _origIsB = !_origIsB;
        (OrigL2, RespL2) = (RespL2, OrigL2);
        (OrigPkts, RespPkts) = (RespPkts, OrigPkts);
        (OrigIpBytes, RespIpBytes) = (RespIpBytes, OrigIpBytes);
        if (this is DatagramConnection d) d.SwapLengths();
        else Tcp?.FlipEndpoints();
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
        _historyLength = 0;
        AddHistory('^');
        foreach (var c in old)
            AddHistory(char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
    }
}

/// <summary>A UDP, ICMP or other non-TCP connection: the connection plus its payload byte counts.</summary>
internal sealed class DatagramConnection : Connection
{
    public DatagramConnection(ConnTracker tracker, in FlowKey key, TransportProto kind, byte protocol, long startTime)
        : base(tracker, key, kind, protocol, startTime)
    {
    }

    // UDP and ICMP payload byte counts; -1 until the side sent something (UDP_INACTIVE).
    public long OrigLen = -1, RespLen = -1;
    public uint OrigChecksumCount, RespChecksumCount;
    public byte OrigChecksumScale, RespChecksumScale;

    public void SwapLengths() => (OrigLen, RespLen) = (RespLen, OrigLen);
}

/// <summary>The first history letters of a connection, kept inside the connection object (letters are ASCII).</summary>
[InlineArray(Capacity)]
internal struct InlineHistory
{
    public const int Capacity = 16;
    private byte _first;
}

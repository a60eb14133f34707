using System.Runtime.CompilerServices;
using System.Diagnostics.CodeAnalysis;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Tracking;

/// <summary>Where a slab entry is in its life.</summary>
internal enum ConnStatus : byte
{
    /// <summary>A free slot.</summary>
    Free = 0,
    /// <summary>In the table: the connection for its key.</summary>
    Live = 1,
    /// <summary>Out of the table and the timers, its record not yet built.</summary>
    Removed = 2,
}

/// <summary>
/// One tracked connection, as a struct in the <see cref="ConnectionSlab"/> (no object per connection): a compact
/// key (IPv4 addresses inline, IPv6 ones in the <see cref="Ipv6AddrStore"/>), the originator/responder roles (which
/// may flip), times, history, the ConnSize counters, the pending timers, and the TCP endpoints' hot part (or, for
/// UDP/ICMP, the payload counts in the same bytes). What few connections need is in <see cref="Cold"/>, created on
/// first use. The TCP logic is in this struct's other part (Tcp/TcpSession.cs).
/// </summary>
/// <remarks>
/// The runtime lays a struct with a reference field out automatically (largest fields first), so the fields below
/// pack without padding: 8 (cold ref) + 16 (times) + 24 (timer times) + 40 (key addresses, counters, timer arming
/// numbers, heap slot) + 40 (TCP endpoints) + 8 (history) + 10 (ports, history bits, link id, timer kinds)
/// + 6 (protocol, flags and status, history length, timer count, timeout index, TCP flags) = 152.
/// </remarks>
internal partial struct Connection
{
    // ---- key ----

    /// <summary>The key's first address (IPv4, host order), or for IPv6 its id in the address store; a free entry's next free slot plus one.</summary>
    internal uint KeyA;
    /// <summary>The key's second address (IPv4, host order), or for IPv6 its id in the address store.</summary>
    internal uint KeyB;
    public ushort PortA, PortB;
    public byte Protocol;
    private byte _bits;

    private const byte V6Bit = 1, OrigIsBBit = 2, StatusShift = 2, StatusMask = 3 << StatusShift;

    /// <summary>Where the entry is in its life (two bits of the flags; a cleared entry is <see cref="ConnStatus.Free"/>).</summary>
    public ConnStatus Status
    {
        readonly get => (ConnStatus)((_bits & StatusMask) >> StatusShift);
        set => _bits = (byte)((_bits & ~StatusMask) | ((int)value << StatusShift));
    }

    public readonly bool IsV6 => (_bits & V6Bit) != 0;
    private readonly bool OrigIsB => (_bits & OrigIsBBit) != 0;

    public readonly TransportProto Kind => Protocol switch
    {
        6 => TransportProto.Tcp,
        17 => TransportProto.Udp,
        1 or 58 => TransportProto.Icmp,
        _ => TransportProto.Unknown,
    };

    /// <summary>Sets the key from <paramref name="key"/> (an IPv6 key's addresses go to <paramref name="v6"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public void SetKey(in FlowKey key, Ipv6AddrStore v6)
    {
        if (key.AddrA.IsIPv4 && key.AddrB.IsIPv4)
        {
            KeyA = key.AddrA.IPv4Value;
            KeyB = key.AddrB.IPv4Value;
        }
        else
        {
            KeyA = (uint)v6.Acquire(key.AddrA);
            KeyB = (uint)v6.Acquire(key.AddrB);
            _bits |= V6Bit;
        }
        PortA = key.PortA;
        PortB = key.PortB;
        Protocol = key.Protocol;
        // A VLAN-aware key's ids are the first packet's, kept in the link context (see KeyVlansEqual).
    }

    /// <summary>
    /// Whether this connection's key is <paramref name="key"/> but for the VLAN ids (<see cref="KeyVlansEqual"/>
    /// compares those when the key is VLAN-aware).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool KeyEquals(in FlowKey key, Ipv6AddrStore v6)
    {
        if (PortA != key.PortA || PortB != key.PortB || Protocol != key.Protocol)
            return false;
        if (key.AddrA.IsIPv4 && key.AddrB.IsIPv4)
            return !IsV6 && KeyA == key.AddrA.IPv4Value && KeyB == key.AddrB.IPv4Value;
        return IsV6 && v6[(int)KeyA] == key.AddrA && v6[(int)KeyB] == key.AddrB;
    }

    public readonly IPAddr128 AddrA(Ipv6AddrStore v6) => IsV6 ? v6[(int)KeyA] : IPAddr128.FromIPv4(KeyA);
    public readonly IPAddr128 AddrB(Ipv6AddrStore v6) => IsV6 ? v6[(int)KeyB] : IPAddr128.FromIPv4(KeyB);

    /// <summary>Gives an IPv6 key's addresses back to the store (the connection ends).</summary>
    public void ReleaseKey(Ipv6AddrStore v6)
    {
        if (!IsV6) return;
        v6.Release((int)KeyA);
        v6.Release((int)KeyB);
    }

    /// <summary>
    /// Whether a VLAN-aware <paramref name="key"/>'s ids are this connection's: the ids of its first packet, which are
    /// in its link context (the key stores them plus one, as the context does).
    /// </summary>
    public readonly bool KeyVlansEqual(in FlowKey key, LinkContexts links)
    {
        var link = Link(links);
        return link.VlanPlus1 == key.Vlan && link.InnerVlanPlus1 == key.InnerVlan;
    }

    /// <summary>The key as a <see cref="FlowKey"/> (for its hash); <paramref name="vlanLinks"/> when the key is VLAN-aware.</summary>
    public readonly FlowKey ToFlowKey(Ipv6AddrStore v6, LinkContexts? vlanLinks)
    {
        var link = vlanLinks is null ? default : Link(vlanLinks);
        return FlowKey.Create(AddrA(v6), PortA, AddrB(v6), PortB, Protocol, canonical: false, link.VlanPlus1, link.InnerVlanPlus1);
    }

    // The originator is one of the key's two endpoints (A unless OrigIsB), so the addresses are not stored twice.
    public readonly IPAddr128 OrigAddr(Ipv6AddrStore v6) => OrigIsB ? AddrB(v6) : AddrA(v6);
    public readonly IPAddr128 RespAddr(Ipv6AddrStore v6) => OrigIsB ? AddrA(v6) : AddrB(v6);
    public readonly ushort OrigPort => OrigIsB ? PortB : PortA;
    public readonly ushort RespPort => OrigIsB ? PortA : PortB;

    /// <summary>Whether (<paramref name="addr"/>, <paramref name="port"/>) is the originator's endpoint.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool IsOrigEndpoint(in IPAddr128 addr, ushort port, Ipv6AddrStore v6)
    {
        bool b = OrigIsB;
        if (port != (b ? PortB : PortA))
            return false;
        if (!IsV6)
            return addr.IsIPv4 && addr.IPv4Value == (b ? KeyB : KeyA);
        return addr == v6[(int)(b ? KeyB : KeyA)];
    }

    /// <summary>Makes the key endpoint (<paramref name="addr"/>, <paramref name="port"/>) the originator.</summary>
    public void SetOriginator(in IPAddr128 addr, ushort port, Ipv6AddrStore v6)
    {
        bool isA = addr == AddrA(v6) && port == PortA;
        _bits = isA ? (byte)(_bits & ~OrigIsBBit) : (byte)(_bits | OrigIsBBit);
    }

    // ---- cold part ----

    /// <summary>The rarely needed part, null until first needed.</summary>
    public ConnCold? Cold;

    public ConnCold ColdPart => Cold ?? NewCold();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ConnCold NewCold() => Cold = new ConnCold();

    /// <summary>The rarest values (in the cold part's own rare part), created on first use.</summary>
    public ConnRare RarePart => ColdPart.RarePart;

    /// <summary>The rare part, or null.</summary>
    public readonly ConnRare? Rare => Cold?.Rare;

    // ---- link context ----

    /// <summary>The first packet's link context: an id in the tracker's <see cref="LinkContexts"/>, 0 for none.</summary>
    internal ushort LinkId;

    /// <summary>Sets the link context (giving back the one it had, if any).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public void SetLink(in LinkContext context, LinkContexts contexts)
    {
        ushort previous = LinkId;
        LinkId = contexts.Acquire(context);
        contexts.Release(previous);
        if (LinkId == LinkContexts.InCold)
            RarePart.Link = context;
    }

    /// <summary>Gives the link context back (the connection ends).</summary>
    public void ReleaseLink(LinkContexts contexts)
    {
        contexts.Release(LinkId);
        LinkId = 0;
    }

    public readonly LinkContext Link(LinkContexts contexts) => LinkId == LinkContexts.InCold ? Cold!.Rare!.Link : contexts[LinkId];

    // ---- times ----

    public long StartTime;
    public long LastTime;

    /// <summary>The inactivity timeout, as an index into the tracker's distinct timeouts (0: none yet).</summary>
    public byte InactivityIndex;

    /// <summary>The <see cref="InactivityIndex"/> that says the timeout is in the rare part (more distinct timeouts than an index holds).</summary>
    public const byte TimeoutInRare = byte.MaxValue;

    // ---- ConnSize counters: the low 32 bits inline, the high ones in the cold part once needed ----

    private uint _origPkts, _respPkts, _origIpBytes, _respIpBytes;

    public readonly ulong OrigPkts => ((ulong)(Rare?.OrigPktsHi ?? 0) << 32) | _origPkts;
    public readonly ulong RespPkts => ((ulong)(Rare?.RespPktsHi ?? 0) << 32) | _respPkts;
    public readonly ulong OrigIpBytes => ((ulong)(Rare?.OrigIpBytesHi ?? 0) << 32) | _origIpBytes;
    public readonly ulong RespIpBytes => ((ulong)(Rare?.RespIpBytesHi ?? 0) << 32) | _respIpBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CountPacket(bool isOrig, uint ipLength)
    {
        if (isOrig)
        {
            if (++_origPkts == 0) RarePart.OrigPktsHi++;
            uint before = _origIpBytes;
            _origIpBytes = before + ipLength;
            if (_origIpBytes < before) RarePart.OrigIpBytesHi++;
        }
        else
        {
            if (++_respPkts == 0) RarePart.RespPktsHi++;
            uint before = _respIpBytes;
            _respIpBytes = before + ipLength;
            if (_respIpBytes < before) RarePart.RespIpBytesHi++;
        }
    }

    // ---- history ----

    // The first letters inline (ASCII, one byte each), any more in the cold part; plus the "seen once" bits
    // (orig in the low 8, resp in the high 8). The string is built only for the record.
    private ulong _history;
    private byte _historyInline;
    public ushort HistSeen;

    private const int InlineHistory = 8;

    /// <summary>The history letters so far ("" when none).</summary>
    public readonly string History
    {
        get
        {
            int n = HistoryLength;
            if (n == 0) return "";
            Span<char> chars = n <= 64 ? stackalloc char[n] : new char[n];
            for (int i = 0; i < _historyInline; i++)
                chars[i] = (char)(byte)(_history >> (8 * i));
            for (int i = _historyInline; i < n; i++)
                chars[i] = (char)Cold!.Rare!.HistoryMore![i - InlineHistory];
            return new string(chars);
        }
    }

    public readonly int HistoryLength => _historyInline + (Rare?.HistoryMoreLength ?? 0);

    /// <summary>
    /// The history's letters packed one byte each (0 when none), when they all fit inline; null when there are
    /// more. Equal letters give equal keys, so the tracker can share one string per distinct history.
    /// </summary>
    public readonly ulong? InlineHistoryKey => _historyInline < InlineHistory || (Rare?.HistoryMoreLength ?? 0) == 0 ? _history : null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public void AddHistory(char code)
    {
        int n = _historyInline;
        if (n < InlineHistory)
        {
            _history |= (ulong)(byte)code << (8 * n);
            _historyInline = (byte)(n + 1);
        }
        else
            AddHistoryBeyondInline(code);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddHistoryBeyondInline(char code)
    {
        var cold = RarePart;
        int index = cold.HistoryMoreLength;
        if (cold.HistoryMore is null || index == cold.HistoryMore.Length)
            Array.Resize(ref cold.HistoryMore, Math.Max(8, index * 2));
        cold.HistoryMore[index] = (byte)code;
        cold.HistoryMoreLength = index + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    private void ClearHistory()
    {
        _history = 0;
        _historyInline = 0;
        if (Rare is { } rare)
            rare.HistoryMoreLength = 0;
    }

    /// <summary>History mask bit shift for the responder (its bits are the originator's shifted left by this).</summary>
    public const int RespHistShift = 8;

    /// <summary>Zeek's Connection::CheckHistory: adds the letter the first time; returns true if it was already seen.</summary>
    public bool CheckHistory(uint mask, char code)
    {
        if ((HistSeen & mask) == 0)
        {
            HistSeen |= (ushort)mask;
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

    // ---- role flips ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    private void SwapSides(LinkContexts contexts)
    {
        _bits ^= OrigIsBBit;
        if (LinkId != 0)
        {
            var swapped = Link(contexts).Swapped;
            SetLink(swapped, contexts);
        }
        (_origPkts, _respPkts) = (_respPkts, _origPkts);
        (_origIpBytes, _respIpBytes) = (_respIpBytes, _origIpBytes);
        if (Rare is { } cold)
        {
            (cold.OrigPktsHi, cold.RespPktsHi) = (cold.RespPktsHi, cold.OrigPktsHi);
            (cold.OrigIpBytesHi, cold.RespIpBytesHi) = (cold.RespIpBytesHi, cold.OrigIpBytesHi);
        }
        if (Protocol == 6) FlipEndpoints();
        else Datagram.SwapLengths();
    }

    /// <summary>Swaps originator and responder and marks the history with '^' (Zeek's Connection::FlipRoles).</summary>
    public void FlipRoles(LinkContexts contexts)
    {
        SwapSides(contexts);
        AddHistory('^');
    }

    /// <summary>
    /// The flip of a connection first seen with a SYN-ACK, once an ack or data shows who the client is:
    /// what was recorded so far is re-attributed, so the history becomes '^' plus the old letters with
    /// their case (direction) swapped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public void FlipRolesRewritingHistory(LinkContexts contexts)
    {
        var old = History;
        SwapSides(contexts);
        HistSeen = (ushort)((HistSeen << RespHistShift) | (HistSeen >> RespHistShift));
        ClearHistory();
        AddHistory('^');
        foreach (var c in old)
            AddHistory(char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
    }

    // ---- timers ----

    // The timers pending for this connection (Zeek keeps a connection's timers with it and cancels them all when it
    // is removed); unordered, the earliest found by a scan. Three fit inline (a SYN-only TCP connection arms
    // exactly three: expire, inactivity, attempt), as times, arming numbers and 3-bit kinds; more spill into the
    // cold part.
    public const int InlineTimers = 3;
    private InlineTimerTimes _timerTimes;
    // Three fields, not an inline array: the runtime places struct-typed fields 8-aligned after the primitive
    // ones, so a 12-byte array would cost 16.
    private uint _timerSeq0, _timerSeq1, _timerSeq2;
    private ushort _timerKinds; // 3 bits per inline timer
    private byte _timerCount;

    /// <summary>Place in the <see cref="ConnTimerHeap"/>: its heap index plus one, the complement of its position in its wheel bucket, or 0 when not in it.</summary>
    internal int HeapSlot;

    public readonly int TimerCount => _timerCount;

    private readonly uint TimerSeq(int i) => i == 0 ? _timerSeq0 : i == 1 ? _timerSeq1 : _timerSeq2;

    private void SetTimerSeq(int i, uint seq)
    {
        if (i == 0) _timerSeq0 = seq;
        else if (i == 1) _timerSeq1 = seq;
        else _timerSeq2 = seq;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly PendingTimer GetTimer(int i) =>
        i < InlineTimers
            ? new PendingTimer(_timerTimes[i], TimerSeq(i), (ConnTimerKind)((_timerKinds >> (3 * i)) & 7))
            : Cold!.Rare!.TimersMore![i - InlineTimers];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetTimer(int i, in PendingTimer timer)
    {
        if (i < InlineTimers)
        {
            _timerTimes[i] = timer.Time;
            SetTimerSeq(i, timer.Seq);
            _timerKinds = (ushort)((_timerKinds & ~(7 << (3 * i))) | ((int)timer.Kind << (3 * i)));
        }
        else
            Cold!.Rare!.TimersMore![i - InlineTimers] = timer;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per timer: never tiered (see ConnTracker.Process)
    public void AddTimer(in PendingTimer timer)
    {
        int n = _timerCount;
        if (n >= InlineTimers)
        {
            var cold = RarePart;
            int extra = n - InlineTimers;
            if (cold.TimersMore is null || extra == cold.TimersMore.Length)
                Array.Resize(ref cold.TimersMore, Math.Max(2, extra * 2));
        }
        SetTimer(n, timer);
        _timerCount = (byte)(n + 1);
    }

    /// <summary>Cancels every pending timer of one of the kinds in <paramref name="kinds"/> (a bit per kind).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per timer: never tiered (see ConnTracker.Process)
    public void CancelTimers(int kinds)
    {
        for (int i = 0; i < _timerCount;)
        {
            if ((kinds & (1 << (int)GetTimer(i).Kind)) != 0)
                RemoveTimerAt(i);
            else
                i++;
        }
    }

    public static int TimerBit(ConnTimerKind kind) => 1 << (int)kind;

    /// <summary>The earliest pending timer (time, then arming order); false when none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public readonly bool TryGetEarliestTimer(out int index, out long time, out uint seq)
    {
        index = -1;
        time = 0;
        seq = 0;
        int n = _timerCount;
        for (int i = 0; i < n; i++)
        {
            long t;
            uint s;
            if (i < InlineTimers)
            {
                t = _timerTimes[i];
                s = TimerSeq(i);
            }
            else
            {
                ref var more = ref Cold!.Rare!.TimersMore![i - InlineTimers];
                t = more.Time;
                s = more.Seq;
            }
            if (index < 0 || PendingTimer.Before(t, s, time, seq))
            {
                index = i;
                time = t;
                seq = s;
            }
        }
        return index >= 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per timer: never tiered (see ConnTracker.Process)
    public PendingTimer RemoveTimerAt(int index)
    {
        var taken = GetTimer(index);
        int last = _timerCount - 1;
        if (index != last)
            SetTimer(index, GetTimer(last));
        _timerCount = (byte)last;
        if (last == InlineTimers)
            Cold!.Rare!.TimersMore = null; // back to inline only
        return taken;
    }

    public void ClearTimers()
    {
        _timerCount = 0;
        _timerKinds = 0;
        if (Rare is { } rare)
            rare.TimersMore = null;
    }

    // ---- transport state: the TCP endpoints, or for UDP/ICMP the payload counts in the same bytes ----

    private TcpEndpoints _tcp;
    /// <summary>The TCP session's flags (Tcp/TcpSession.cs).</summary>
    private byte _tcpBits;

    /// <summary>The UDP/ICMP/other state (the same bytes as the TCP endpoints: a connection is one or the other).</summary>
    [UnscopedRef]
    public ref DatagramState Datagram => ref Unsafe.As<TcpEndpoints, DatagramState>(ref _tcp);
}

/// <summary>A TCP connection's two endpoints, by position (roles may flip).</summary>
internal struct TcpEndpoints
{
    public TcpEndpoint First, Second;
}

/// <summary>A UDP, ICMP or other non-TCP connection's payload byte counts and checksum-error counters.</summary>
internal struct DatagramState
{
    // UDP and ICMP payload byte counts; -1 until the side sent something (UDP_INACTIVE).
    public long OrigLen, RespLen;
    public uint OrigChecksumCount, RespChecksumCount;
    public byte OrigChecksumScale, RespChecksumScale;

    public void SwapLengths() => (OrigLen, RespLen) = (RespLen, OrigLen);
}

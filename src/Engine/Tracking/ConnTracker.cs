using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Timers;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Tracking;

/// <summary>Receives each connection's record when it ends.</summary>
public interface IConnSink
{
    void Write(ConnRecord record);
}

/// <summary>
/// The connection table: one lookup per packet, Zeek's TCP/UDP/ICMP semantics, timers on packet time,
/// and a conn.log record handed to the sink when a connection ends (timer, reuse, or the end of input).
/// </summary>
public sealed class ConnTracker
{
    private readonly ConnectionSlab _slab = new();
    private readonly Ipv6AddrStore _v6 = new();
    private readonly ConnectionTable _table;
    private readonly ConnTimerHeap _timers;
    /// <summary>The first packets' link contexts (MACs, VLANs, PPPoE), each held once.</summary>
    internal LinkContexts Links { get; } = new();
    /// <summary>The slot of the connection whose packet is being delivered (the TCP logic's callbacks act on it).</summary>
    private int _delivering = -1;
    private readonly LinkContexts? _vlanLinks; // Links when the key is VLAN-aware
    private uint _timerSeq; // arming order, for timers due at the same time
    private readonly UidGenerator _uids;
    private readonly LocalNetworks _localNets;
    private readonly PortBitmap _likelyTcpServerPorts, _likelyUdpServerPorts, _dnsAnalyzerPorts;
    // TCP responder ports with a timeout of their own (the value is looked up only for these).
    private readonly PortBitmap _tcpPortsWithTimeout;

    private readonly long _tcpInactivity, _udpInactivity, _icmpInactivity, _unknownInactivity;
    private readonly long _synTimeout, _sessionTimer, _linger, _attemptDelay, _closeDelay, _dnsSessionTimeout;
    private long _now;

    // The distinct inactivity timeouts, so a connection keeps a byte index instead of a long (index 0: none yet).
    private long[] _timeouts = [0];

    public ConnTracker(ConnTrackOptions options, IConnSink sink)
    {
        _vlanLinks = options.VlanAwareConnKey ? Links : null;
        _table = new ConnectionTable(_slab, _v6, _vlanLinks);
        _timers = new ConnTimerHeap(_slab);
        Options = options;
        Sink = sink;
        _uids = new UidGenerator(options.UidSeed);
        _localNets = new LocalNetworks(options.LocalNets);
        _likelyTcpServerPorts = PortBitmap.Of(options.LikelyServerPorts, TransportProto.Tcp);
        _likelyUdpServerPorts = PortBitmap.Of(options.LikelyServerPorts, TransportProto.Udp);
        _dnsAnalyzerPorts = new PortBitmap(options.DnsAnalyzerPorts);
        _tcpPortsWithTimeout = PortBitmap.Of(options.PortInactivityTimeouts.Keys, TransportProto.Tcp);
        _tcpInactivity = Nanos(options.TcpInactivityTimeout);
        _udpInactivity = Nanos(options.UdpInactivityTimeout);
        _icmpInactivity = Nanos(options.IcmpInactivityTimeout);
        _unknownInactivity = Nanos(options.UnknownIpInactivityTimeout);
        _synTimeout = Nanos(options.TcpSynTimeout);
        _sessionTimer = Nanos(options.TcpSessionTimer);
        _linger = Nanos(options.TcpConnectionLinger);
        _attemptDelay = Nanos(options.TcpAttemptDelay);
        _closeDelay = Nanos(options.TcpCloseDelay);
        _dnsSessionTimeout = Nanos(options.DnsSessionTimeout);
        ExcessiveDataWithoutFurtherAcks = (ulong)Math.Max(0, options.TcpExcessiveDataWithoutFurtherAcks);
        foreach (var t in new[] { _tcpInactivity, _udpInactivity, _icmpInactivity, _unknownInactivity })
            TimeoutIndex(t);
    }

    /// <summary>
    /// The index of <paramref name="timeout"/> among the distinct timeouts (added if new), or
    /// <see cref="Connection.TimeoutInRare"/> once 254 are known (the connection then keeps it in its rare part).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    private byte TimeoutIndex(long timeout)
    {
        for (int i = 0; i < _timeouts.Length; i++)
            if (_timeouts[i] == timeout)
                return (byte)i;
        if (_timeouts.Length >= Connection.TimeoutInRare)
            return Connection.TimeoutInRare;
        Array.Resize(ref _timeouts, _timeouts.Length + 1);
        _timeouts[^1] = timeout;
        return (byte)(_timeouts.Length - 1);
    }

    /// <summary>The inactivity timeout of <paramref name="conn"/> (ns; 0 when none).</summary>
    private long InactivityTimeout(in Connection conn) =>
        conn.InactivityIndex == Connection.TimeoutInRare ? conn.Rare!.InactivityTimeout : _timeouts[conn.InactivityIndex];

    /// <summary>The slab entry of <paramref name="slot"/>.</summary>
    internal ref Connection this[int slot] => ref _slab[slot];

    /// <summary>The IPv6 addresses of the open connections.</summary>
    internal Ipv6AddrStore Ipv6Addresses => _v6;

    internal ulong ExcessiveDataWithoutFurtherAcks { get; }

    private static long Nanos(TimeSpan t) => t.Ticks * 100;

    public ConnTrackOptions Options { get; }
    public IConnSink Sink { get; }

    /// <summary>Connections currently tracked.</summary>
    public int OpenConnections => _table.Count;

    /// <summary>Connections with a timer pending (each sits in the timer heap once; removed ones never).</summary>
    internal int PendingTimerConnections => _timers.Count;

    /// <summary>New connections not tracked because the table was full (MaxConnections).</summary>
    public long DroppedForCapacity { get; private set; }

    /// <summary>
    /// The table key of a packet, with its transport kind and the ports as the key uses them (ICMP: type and
    /// counterpart type; other protocols: none). The key is written where the caller keeps it: returned by value,
    /// it was built in a temporary and copied with one 32-byte load over the narrower stores that built it, a load the
    /// CPU cannot forward, which waits for every older store and so kept the lookups' misses from overlapping.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void KeyOf(in PacketSummary p, out FlowKey key, out TransportProto kind, out ushort srcPort, out ushort dstPort)
    {
        srcPort = p.SrcPort;
        dstPort = p.DstPort;
        bool canonical = true;
        switch (p.Protocol)
        {
            case 6: kind = TransportProto.Tcp; break;
            case 17: kind = TransportProto.Udp; break;
            case 1:
                kind = TransportProto.Icmp;
                dstPort = IcmpCounterpart.ForIcmp4((byte)p.SrcPort, (byte)p.DstPort, out bool oneWay4);
                canonical = !oneWay4;
                break;
            case 58:
                kind = TransportProto.Icmp;
                dstPort = IcmpCounterpart.ForIcmp6((byte)p.SrcPort, (byte)p.DstPort, out bool oneWay6);
                canonical = !oneWay6;
                break;
            default:
                kind = TransportProto.Unknown;
                srcPort = dstPort = 0;
                break;
        }

        bool vlanKey = Options.VlanAwareConnKey;
        // A VLAN-aware key tells "no tag" from "tag with id 0": ids are stored plus one.
        key = FlowKey.Create(p.Src, srcPort, p.Dst, dstPort, p.Protocol, canonical,
                              vlanKey && p.HasVlan ? (ushort)(p.Vlan + 1) : (ushort)0,
                              vlanKey && p.HasInnerVlan ? (ushort)(p.InnerVlan + 1) : (ushort)0);
    }

    /// <summary>
    /// A hint that <paramref name="p"/> will be processed soon: looks its connection up and asks the CPU to
    /// bring the connection's slab entry into the cache. Changes nothing; a stale answer (the connection ends
    /// before the packet is processed) costs nothing. Called for a batch of packets ahead of <see cref="Process"/>,
    /// so the cache misses of several lookups overlap instead of stalling one packet at a time.
    /// </summary>
    public void Prefetch(in PacketSummary p) => PrefetchConnection(p);

    /// <summary>
    /// <see cref="Prefetch"/>, handing back a hint for <see cref="Process(in PacketSummary, int)"/>: the slot of the
    /// connection found plus one, or 0 when none.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    internal int PrefetchConnection(in PacketSummary p)
    {
        KeyOf(p, out var key, out _, out _, out _);
        int slot = _table.Find(key);
        if (slot < 0)
            return 0;
        PrefetchEntry(ref _slab[slot]);
        return slot + 1;
    }

    /// <summary>Packets looked up together by <see cref="PrefetchConnections"/> at most.</summary>
    internal const int LookAheadMax = 32;

    /// <summary>
    /// <see cref="PrefetchConnection"/> for several packets at once: <c>packets[which[i]]</c> gets its hint in
    /// <c>hints[i]</c>. Three passes, so that the packets' cache misses overlap instead of following one another:
    /// every key's table entry is requested, then every candidate connection's entry (found by hash alone) and its
    /// timer-wheel bucket number, then every candidate's cold part. A hint is a slot plus one whose key may still differ (two keys with one
    /// hash): <see cref="Process(in PacketSummary, int)"/> checks it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    internal void PrefetchConnections(PacketSummary[] packets, ReadOnlySpan<int> which, Span<int> hints)
    {
        int n = which.Length;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, LookAheadMax);
        var ahead = _ahead;
        for (int i = 0; i < n; i++)
        {
            ref var a = ref ahead[i];
            KeyOf(packets[which[i]], out a.Key, out a.Kind, out a.SrcPort, out a.DstPort);
            a.Hash = a.Key.GetHashCode();
            _table.PrefetchHome(a.Hash);
        }
        for (int i = 0; i < n; i++)
        {
            int slot = _table.CandidateSlot(ahead[i].Hash);
            hints[i] = slot + 1;
            if (slot >= 0)
            {
                PrefetchLines(ref _slab[slot]);
                _timers.PrefetchBucketOf(slot);
            }
        }
        for (int i = 0; i < n; i++)
        {
            if (hints[i] > 0)
                PrefetchCold(ref _slab[hints[i] - 1]);
        }
    }

    private static unsafe void PrefetchLines(ref Connection conn)
    {
        if (!Sse.IsSupported)
            return;
        byte* at = (byte*)Unsafe.AsPointer(ref conn);
        Sse.Prefetch0(at);
        Sse.Prefetch0(at + 64);
        Sse.Prefetch0(at + Unsafe.SizeOf<Connection>() - 1);
    }

    private static unsafe void PrefetchCold(ref Connection conn)
    {
        if (!Sse.IsSupported)
            return;
        if (conn.Cold is { } cold)
        {
            byte* c = (byte*)Unsafe.As<ConnCold, nint>(ref cold);
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + 64);
            Sse.Prefetch0(c + ColdObjectBytes - 1);
        }
    }

    private static void PrefetchEntry(ref Connection conn)
    {
        // The entry spans at most three cache lines (the lookup has just read its key); a connection carrying
        // data reads its cold part on most packets: bring that in too.
        PrefetchLines(ref conn);
        PrefetchCold(ref conn);
    }

    // The cold object: header, the endpoints' cold parts, the rare part's reference.
    private const int ColdObjectBytes = 120;

    /// <summary>A packet's key as <see cref="PrefetchConnections"/> worked it out, kept for <see cref="ProcessLookedAhead"/>.</summary>
    private struct LookAhead
    {
        public FlowKey Key;
        public int Hash;
        public TransportProto Kind;
        public ushort SrcPort, DstPort;
    }

    // The last PrefetchConnections window's keys: a key is a function of the packet alone (and the options), so
    // working it out once per packet instead of twice stays right whatever the packets before it changed.
    private readonly LookAhead[] _ahead = new LookAhead[LookAheadMax];

    /// <summary>Tracks one packet, after expiring the timers due at its time.</summary>
    public void Process(in PacketSummary p) => Process(p, 0);

    /// <summary>
    /// Tracks one packet. <paramref name="hint"/> is what <see cref="PrefetchConnection"/> gave for it earlier (or
    /// 0): a slot still live under the packet's key saves the second lookup.
    /// </summary>
    /// <remarks>
    /// This method and the methods it calls on every packet are marked AggressiveOptimization ("per packet: never
    /// tiered"): compiled optimised at their first call, without the runtime's tiers. A single pass over a file
    /// never reaches the steady state tiering waits for, and in the parallel runner its middle tier hurt most:
    /// the shard threads ran the same instrumented code, whose profile counters are shared (a contended locked add
    /// took ~0.2 s of CPU in a 5M-packet pass), while the compiler thread that would replace it had to share the two
    /// cores with three busy threads. Marking the per-packet callees cut the parallel pass's CPU by about a tenth.
    /// The paths each connection, timer and record takes are marked too ("per connection", "per timer", "per record"),
    /// and the flush: left to the tiers, they ran unoptimised and then instrumented code and were compiled twice more
    /// while the trace ran (5M packets, medians of 6 interleaved rounds: two shards 1.461 → 1.395 s, one shard
    /// 1.488 → 1.391 s, one thread 1.949 → 1.924 s). Methods small enough to inline are inlined into these instead.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    internal void Process(in PacketSummary p, int hint)
    {
        KeyOf(p, out var key, out var kind, out ushort srcPort, out ushort dstPort);
        Track(p, hint, key, key.GetHashCode(), kind, srcPort, dstPort);
    }

    /// <summary>
    /// <see cref="Process(in PacketSummary, int)"/> for <paramref name="p"/>, the packet at position
    /// <paramref name="index"/> of the last <see cref="PrefetchConnections"/> call, whose hint that call gave: its
    /// key is taken from there instead of being worked out again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    internal void ProcessLookedAhead(in PacketSummary p, int index, int hint)
    {
        ref readonly var a = ref _ahead[index];
        Track(p, hint, a.Key, a.Hash, a.Kind, a.SrcPort, a.DstPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void Track(in PacketSummary p, int hint, in FlowKey key, int hash, TransportProto kind, ushort srcPort, ushort dstPort)
    {
        AdvanceTime(p.Timestamp);

        // A live slot is in the table, the one connection for its key: if its key is the packet's, it is the
        // packet's connection (even when the slot was freed and reused since the hint was taken).
        if (hint > 0 && _slab[hint - 1].Status == ConnStatus.Live && _slab[hint - 1].KeyEquals(key, _v6) &&
            (_vlanLinks is null || _slab[hint - 1].KeyVlansEqual(key, _vlanLinks)))
        {
            int slot = hint - 1;
            if (kind == TransportProto.Tcp && _slab[slot].IsReuse(p, p.Timestamp, _linger))
            {
                MarkRemoved(slot);
                int next = NewConnection(p, key, kind, srcPort, dstPort);
                _table.Find(key, hash, out int at);
                _table.Replace(at, slot, next);
                Emit(slot);
                slot = next;
            }
            Deliver(slot, p, kind, srcPort);
        }
        else
            ProcessLookingUp(p, key, hash, kind, srcPort, dstPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void ProcessLookingUp(in PacketSummary p, in FlowKey key, int hash, TransportProto kind, ushort srcPort, ushort dstPort)
    {
        int slot = _table.Find(key, hash, out int position);
        if (slot < 0)
        {
            if (_table.Count >= Options.MaxConnections)
            {
                DroppedForCapacity++;
                return;
            }
            slot = NewConnection(p, key, kind, srcPort, dstPort);
            _table.Insert(position, slot, hash);
        }
        else if (kind == TransportProto.Tcp && _slab[slot].IsReuse(p, p.Timestamp, _linger))
        {
            // The old connection ends here; the packet starts a new one under the same key.
            MarkRemoved(slot);
            int next = NewConnection(p, key, kind, srcPort, dstPort);
            _table.Replace(position, slot, next);
            Emit(slot);
            slot = next;
        }
        Deliver(slot, p, kind, srcPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void Deliver(int slot, in PacketSummary p, TransportProto kind, ushort srcPort)
    {
        ref var conn = ref _slab[slot];
        bool isOrig = conn.IsOrigEndpoint(p.Src, srcPort, _v6);
        switch (kind)
        {
            case TransportProto.Tcp:
                _delivering = slot;
                DeliverTcp(ref conn, p, isOrig);
                _delivering = -1;
                break;
            case TransportProto.Udp: DeliverUdp(ref conn, p, isOrig); break;
            case TransportProto.Icmp: DeliverIcmp(ref conn, p, isOrig); break;
            default:
                conn.CountPacket(isOrig, (uint)p.IpLength);
                conn.LastTime = p.Timestamp;
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private int NewConnection(in PacketSummary p, in FlowKey key, TransportProto kind, ushort srcPort, ushort dstPort)
    {
        int slot = _slab.Allocate();
        ref var conn = ref _slab[slot];
        conn.SetKey(key, _v6);
        conn.Status = ConnStatus.Live;
        conn.StartTime = conn.LastTime = p.Timestamp;
        if (kind == TransportProto.Tcp)
            conn.InitTcp();
        else
            conn.Datagram.OrigLen = conn.Datagram.RespLen = -1;
        if (p.HasVlan || p.HasInnerVlan || p.HasMacs || p.HasPppoe || p.SrcMac != 0 || p.DstMac != 0)
            conn.SetLink(new LinkContext(p.SrcMac, p.DstMac, p.HasMacs,
                                         p.HasVlan ? (ushort)(p.Vlan + 1) : (ushort)0,
                                         p.HasInnerVlan ? (ushort)(p.InnerVlan + 1) : (ushort)0,
                                         p.HasPppoe ? p.PppoeSessionId + 1u : 0u), Links);
        conn.SetOriginator(p.Src, srcPort, _v6);

        bool flip = false;
        switch (kind)
        {
            case TransportProto.Tcp:
                flip = WantsTcpFlip(p.Flags, srcPort, dstPort);
                conn.StartedWithSynAck = (p.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack);
                Arm(slot, ConnTimerKind.TcpExpire, p.Timestamp + _synTimeout);
                // Zeek starts a TCP connection on the UDP inactivity timeout until its handshake completes.
                SetInactivityTimeout(slot, _udpInactivity);
                break;
            case TransportProto.Udp:
                flip = _likelyUdpServerPorts.Contains(srcPort) && !_likelyUdpServerPorts.Contains(dstPort);
                SetInactivityTimeout(slot, _udpInactivity);
                break;
            case TransportProto.Icmp:
                SetInactivityTimeout(slot, _icmpInactivity);
                break;
            default:
                SetInactivityTimeout(slot, _unknownInactivity);
                break;
        }

        // Never make a broadcast address the originator.
        if (flip && !(p.Dst.IsIPv4 && p.Dst.IPv4Value == 0xFFFF_FFFF))
            conn.FlipRoles(Links);

        // Zeek's DNS analyzer, attached by responder port, expires quiet UDP DNS connections itself.
        if (kind == TransportProto.Udp && _dnsSessionTimeout > 0 && _dnsAnalyzerPorts.Contains(conn.RespPort))
            Arm(slot, ConnTimerKind.DnsExpire, p.Timestamp + _dnsSessionTimeout);
        return slot;
    }

    /// <summary>Zeek's TCPAnalyzer::WantConnection flip heuristic for a connection not starting with a plain SYN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    private bool WantsTcpFlip(TcpFlags flags, ushort srcPort, ushort dstPort)
    {
        bool syn = (flags & TcpFlags.Syn) != 0;
        if (syn && (flags & TcpFlags.Ack) == 0) return false;
        if (!_likelyTcpServerPorts.Contains(srcPort)) return false;
        if (_likelyTcpServerPorts.Contains(dstPort))
            return !syn && srcPort < dstPort; // both plausible: favour the lower port, never for SYN-ACKs (stealth scans)
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void DeliverTcp(ref Connection conn, in PacketSummary p, bool isOrig)
    {
        if (!Options.IgnoreChecksums && p.Checksum == ChecksumStatus.Bad)
        {
            conn.ChecksumError(ref conn.Side(isOrig));
            return;
        }

        // A connection first seen with a SYN-ACK flips once an ack or data shows who the client is.
        if (conn.StartedWithSynAck && conn.Orig.State == TcpEndpointState.SynAckSent && conn.Resp.State == TcpEndpointState.Inactive &&
            (p.Flags & (TcpFlags.Syn | TcpFlags.Rst)) == 0 && ((p.Flags & TcpFlags.Ack) != 0 || p.PayloadLength > 0))
        {
            conn.StartedWithSynAck = false;
            conn.FlipRolesRewritingHistory(Links);
            isOrig = !isOrig;
        }

        conn.ProcessTcp(p, isOrig, p.Timestamp, this);
        // Process may have flipped the roles (SYN/SYN-ACK reversal): count with the direction as it is now.
        conn.CountPacket(conn.IsOrigEndpoint(p.Src, p.SrcPort, _v6), (uint)p.IpLength);
    }

    // Connection-level history masks for UDP (Zeek's HIST_ORIG_DATA_PKT / HIST_RESP_DATA_PKT).
    private const uint HistOrigData = 0x1, HistRespData = 0x1 << Connection.RespHistShift;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void DeliverUdp(ref Connection conn, in PacketSummary p, bool isOrig)
    {
        ref var d = ref conn.Datagram;
        if (!Options.IgnoreChecksums && p.Checksum == ChecksumStatus.Bad)
        {
            if (isOrig) conn.ScaledHistoryEntry('C', ref d.OrigChecksumCount, ref d.OrigChecksumScale);
            else conn.ScaledHistoryEntry('c', ref d.RespChecksumCount, ref d.RespChecksumScale);
            return;
        }
        conn.CountPacket(isOrig, (uint)p.IpLength);
        conn.LastTime = p.Timestamp;
        // Zeek counts UDP payload from the UDP header's own length field, not the IP length.
        int len = p.UdpLength - 8;
        if (isOrig)
        {
            conn.CheckHistory(HistOrigData, 'D');
            d.OrigLen = d.OrigLen < 0 ? len : d.OrigLen + len;
        }
        else
        {
            conn.CheckHistory(HistRespData, 'd');
            d.RespLen = d.RespLen < 0 ? len : d.RespLen + len;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void DeliverIcmp(ref Connection conn, in PacketSummary p, bool isOrig)
    {
        if (!Options.IgnoreChecksums && p.Checksum == ChecksumStatus.Bad)
            return;
        ref var d = ref conn.Datagram;
        conn.LastTime = p.Timestamp;
        if (isOrig) d.OrigLen = d.OrigLen < 0 ? p.PayloadLength : d.OrigLen + p.PayloadLength;
        else d.RespLen = d.RespLen < 0 ? p.PayloadLength : d.RespLen + p.PayloadLength;
        if (p.CapturedPayloadLength >= p.PayloadLength)
            conn.CountPacket(isOrig, (uint)p.IpLength);
    }

    // ---- timers ----

    /// <summary>Moves the clock to <paramref name="now"/> (ns), expiring what is due (Zeek's TimerMgr::Advance).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public void AdvanceTime(long now)
    {
        if (now < _now) now = _now; // network time never goes back
        _now = now;
        _timers.Advance(now);
        int max = Options.MaxTimerExpires;
        int expired = 0;
        while ((max <= 0 || expired < max) && _timers.TryPeek(out int slot, out long due) && due <= now)
        {
            expired++;
            ref var conn = ref _slab[slot];
            conn.TryGetEarliestTimer(out int index, out _, out _);
            var kind = conn.RemoveTimerAt(index).Kind;
            Fire(slot, kind, now);
            if (_slab[slot].Status == ConnStatus.Live)
                _timers.Update(slot);
        }
    }

    /// <summary>Arms a timer of the connection in <paramref name="slot"/> due at <paramref name="time"/> (ns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void Arm(int slot, ConnTimerKind kind, long time)
    {
        _slab[slot].AddTimer(new PendingTimer(time, _timerSeq++, kind));
        _timers.Update(slot);
    }

    private const int SessionTimers = 1 << (int)ConnTimerKind.TcpExpire | 1 << (int)ConnTimerKind.TcpAttempt | 1 << (int)ConnTimerKind.TcpCloseDelete;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void Fire(int slot, ConnTimerKind kind, long now)
    {
        ref var conn = ref _slab[slot];
        switch (kind)
        {
            case ConnTimerKind.Inactivity:
            {
                long timeout = InactivityTimeout(conn);
                if (conn.LastTime + timeout <= now) Remove(slot);
                else Arm(slot, ConnTimerKind.Inactivity, conn.LastTime + timeout);
                break;
            }

            case ConnTimerKind.TcpExpire:
                FireTcpExpire(slot, now);
                break;

            case ConnTimerKind.TcpAttempt:
            {
                if (!conn.IsActive) return;
                if (conn.Orig.State is TcpEndpointState.SynSent or TcpEndpointState.SynAckSent && conn.Resp.State == TcpEndpointState.Inactive)
                {
                    conn.IsActive = false;
                    Remove(slot);
                }
                break;
            }

            case ConnTimerKind.TcpCloseDelete:
                Remove(slot);
                break;

            case ConnTimerKind.DnsExpire:
                // A second of slack so a request and its reply do not re-arm the timer needlessly.
                if (now - conn.LastTime >= _dnsSessionTimeout - 1_000_000_000L) Remove(slot);
                else Arm(slot, ConnTimerKind.DnsExpire, now + _dnsSessionTimeout);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per timer: never tiered (see ConnTracker.Process)
    private void FireTcpExpire(int slot, long now)
    {
        ref var conn = ref _slab[slot];
        if (!conn.IsActive) return;
        ref var o = ref conn.Orig;
        ref var r = ref conn.Resp;
        if (conn.LastTime + _linger < now)
        {
            if (o.DidClose || r.DidClose)
            {
                if ((o.DidClose && r.DidClose) ||
                    o.State == TcpEndpointState.Reset || r.State == TcpEndpointState.Reset ||
                    o.State == TcpEndpointState.Inactive || r.State == TcpEndpointState.Inactive)
                {
                    conn.IsActive = false;
                    Remove(slot);
                    return;
                }
            }
            if (r.State == TcpEndpointState.Inactive && o.State == TcpEndpointState.Inactive)
            {
                Remove(slot);
                return;
            }
        }
        Arm(slot, ConnTimerKind.TcpExpire, now + _sessionTimer);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void SetInactivityTimeout(int slot, long timeout)
    {
        ref var conn = ref _slab[slot];
        if (timeout == InactivityTimeout(conn)) return;
        conn.CancelTimers(Connection.TimerBit(ConnTimerKind.Inactivity));
        if (timeout > 0)
            conn.AddTimer(new PendingTimer(conn.LastTime + timeout, _timerSeq++, ConnTimerKind.Inactivity));
        _timers.Update(slot);
        conn.InactivityIndex = TimeoutIndex(timeout);
        if (conn.InactivityIndex == Connection.TimeoutInRare)
            conn.RarePart.InactivityTimeout = timeout;
    }

    // The TCP logic's callbacks: they act on the connection being delivered (the ref is that slot's entry).

    internal void OnHandshakeDone(ref Connection conn) => SetInactivityTimeout(_delivering, _tcpInactivity);

    /// <summary>connection_established: base/protocols/conn/inactivity.zeek applies the per-port timeouts here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    internal void OnEstablished(ref Connection conn)
    {
        if (_tcpPortsWithTimeout.Contains(conn.RespPort) &&
            Options.PortInactivityTimeouts.TryGetValue(new PortSpec(conn.RespPort, TransportProto.Tcp), out var t))
            SetInactivityTimeout(_delivering, Nanos(t));
    }

    internal void ArmAttemptTimer(ref Connection conn, long now)
    {
        if (_attemptDelay > 0)
            Arm(_delivering, ConnTimerKind.TcpAttempt, now + _attemptDelay);
    }

    internal void ArmExpireTimer(ref Connection conn, long from) => Arm(_delivering, ConnTimerKind.TcpExpire, from + _sessionTimer);

    /// <summary>Both sides closed: cancel the session timers and delete after tcp_close_delay.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    internal void ArmCloseTimer(ref Connection conn)
    {
        conn.CancelTimers(SessionTimers);
        conn.AddTimer(new PendingTimer(conn.LastTime + _closeDelay, _timerSeq++, ConnTimerKind.TcpCloseDelete));
        _timers.Update(_delivering);
    }

    // ---- removal ----

    /// <summary>Takes the connection in <paramref name="slot"/> out of the timers (Zeek cancels a removed connection's timers) and marks it removed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void MarkRemoved(int slot)
    {
        _timers.Remove(slot);
        ref var conn = ref _slab[slot];
        conn.Status = ConnStatus.Removed;
        conn.ClearTimers();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void Remove(int slot)
    {
        MarkRemoved(slot);
        _table.Remove(slot);
        Emit(slot);
    }

    /// <summary>How many entries ahead <see cref="FlushAll"/> asks for the connections it reads.</summary>
    private const int FlushLookAhead = 16;

    /// <summary>Ends every open connection, as Zeek does at the end of its input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs over every open connection at once: never tiered (see ConnTracker.Process)
    public void FlushAll()
    {
        var slots = new List<int>(_table.Count);
        _table.CopyTo(slots);
        // Sorted by start time through a copy of the times: reading each connection's start from the slab as the
        // sort goes misses the cache at almost every step (~1% of a 5M-packet pass, for 50k open connections).
        var open = slots.ToArray();
        var starts = new long[open.Length];
        // Both walks visit the slab in an order of their own (the table's, then start time), so each entry is a
        // miss: asked for some entries ahead, the misses overlap. The flush of the 81,349 connections open at the end
        // of the 5M-packet bench capture: 0.111–0.123 s before, 0.096–0.105 s after, two outliers at 0.14 (fresh
        // processes, faster in 8 pairs of 10).
        for (int i = 0; i < open.Length; i++)
        {
            if (i + FlushLookAhead < open.Length)
                PrefetchLines(ref _slab[open[i + FlushLookAhead]]);
            starts[i] = _slab[open[i]].StartTime;
        }
        StartOrder.Sort(starts, open);
        _table.Clear();
        _timers.Clear();
        for (int i = 0; i < open.Length; i++)
        {
            if (i + FlushLookAhead / 2 < open.Length)
                PrefetchLines(ref _slab[open[i + FlushLookAhead / 2]]);
            if (i + FlushLookAhead / 4 < open.Length)
                PrefetchCold(ref _slab[open[i + FlushLookAhead / 4]]); // its entry was asked for a few rounds ago
            int slot = open[i];
            _slab[slot].Status = ConnStatus.Removed;
            Emit(slot);
        }
        _slab.Clear();
        _v6.Clear();
    }

    /// <summary>Hands the record of the removed connection in <paramref name="slot"/> to the sink and frees the slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void Emit(int slot)
    {
        ref var conn = ref _slab[slot];
        var record = BuildRecord(ref conn);
        conn.ReleaseKey(_v6);
        conn.ReleaseLink(Links);
        _slab.Free(slot);
        Sink.Write(record);
    }

    // One string per distinct short history ("ShADadFf", "S", "Dd", ...: a few dozen cover most connections), so
    // records, and the ConnInfo objects a session keeps, share them instead of holding a copy each.
    private readonly Dictionary<ulong, string> _historyTexts = new();
    private const int MaxSharedHistories = 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    private string HistoryText(in Connection conn)
    {
        if (conn.InlineHistoryKey is not ulong key)
            return conn.History;
        if (!_historyTexts.TryGetValue(key, out var text))
        {
            text = conn.History;
            if (_historyTexts.Count < MaxSharedHistories)
                _historyTexts.Add(key, text);
        }
        return text;
    }

    /// <summary>conn.log's fields for a connection, derived at removal as Zeek's set_conn does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private ConnRecord BuildRecord(ref Connection conn)
    {
        var history = HistoryText(conn);
        var kind = conn.Kind;
        var rec = new ConnRecord
        {
            Ts = conn.StartTime,
            OrigH = conn.OrigAddr(_v6),
            OrigP = conn.OrigPort,
            RespH = conn.RespAddr(_v6),
            RespP = conn.RespPort,
            Proto = kind,
            MissedBytes = kind == TransportProto.Tcp ? conn.MissedBytes : 0,
            History = history.Length > 0 ? history : null,
            IpProto = conn.Protocol,
        };
        var (uidHi, uidLo) = _uids.NextUidBits(); // drawn now, in record order; rendered when read
        rec.SetUidBits(uidHi, uidLo);
        // The packet and IP-byte columns come from Zeek's ConnSize analyzer; without it Zeek leaves them unset.
        if (Options.UseConnSizeAnalyzer)
        {
            rec.OrigPkts = conn.OrigPkts;
            rec.OrigIpBytes = conn.OrigIpBytes;
            rec.RespPkts = conn.RespPkts;
            rec.RespIpBytes = conn.RespIpBytes;
        }
        var link = conn.Link(Links);
        rec.Vlan = link.Vlan;
        rec.InnerVlan = link.InnerVlan;
        rec.PppoeSessionId = link.PppoeSessionId;
        if (link.HasL2)
        {
            rec.OrigL2Addr = link.OrigL2;
            rec.RespL2Addr = link.RespL2;
        }

        ulong origSize, respSize;
        switch (kind)
        {
            case TransportProto.Tcp:
                origSize = conn.Size(conn.Orig);
                respSize = conn.Size(conn.Resp);
                rec.ConnState = ConnStateClassifier.Tcp(conn.Orig.State, conn.Resp.State, origSize, respSize, history);
                break;
            case TransportProto.Udp:
            {
                ref var udp = ref conn.Datagram;
                origSize = (ulong)Math.Max(0, udp.OrigLen);
                respSize = (ulong)Math.Max(0, udp.RespLen);
                rec.ConnState = ConnStateClassifier.Udp(udp.OrigLen >= 0, udp.RespLen >= 0);
                break;
            }
            case TransportProto.Icmp:
            {
                ref var icmp = ref conn.Datagram;
                origSize = (ulong)Math.Max(0, icmp.OrigLen);
                respSize = (ulong)Math.Max(0, icmp.RespLen);
                rec.ConnState = "OTH";
                break;
            }
            default:
                origSize = respSize = 0;
                rec.ConnState = "OTH";
                break;
        }

        long duration = conn.LastTime - conn.StartTime;
        if (duration > 0)
        {
            rec.Duration = duration;
            rec.OrigBytes = origSize;
            rec.RespBytes = respSize;
        }

        if (!_localNets.IsEmpty)
        {
            var origAddr = conn.OrigAddr(_v6);
            var respAddr = conn.RespAddr(_v6);
            rec.LocalOrig = _localNets.Contains(origAddr);
            rec.LocalResp = _localNets.Contains(respAddr);
        }
        return rec;
    }
}

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
    private readonly ConnectionTable _table = new();
    private readonly ConnTimerHeap _timers = new();
    private uint _timerSeq; // arming order, for timers due at the same time
    private readonly UidGenerator _uids;
    private readonly LocalNetworks _localNets;
    private readonly HashSet<PortSpec> _likelyServerPorts;

    private readonly long _tcpInactivity, _udpInactivity, _icmpInactivity, _unknownInactivity;
    private readonly long _synTimeout, _sessionTimer, _linger, _attemptDelay, _closeDelay, _dnsSessionTimeout;
    private long _now;

    public ConnTracker(ConnTrackOptions options, IConnSink sink)
    {
        Options = options;
        Sink = sink;
        _uids = new UidGenerator(options.UidSeed);
        _localNets = new LocalNetworks(options.LocalNets);
        _likelyServerPorts = options.LikelyServerPorts;
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
    }

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
    /// counterpart type; other protocols: none).
    /// </summary>
    private FlowKey KeyOf(in PacketSummary p, out TransportProto kind, out ushort srcPort, out ushort dstPort)
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
        return FlowKey.Create(p.Src, srcPort, p.Dst, dstPort, p.Protocol, canonical,
                              vlanKey && p.HasVlan ? (ushort)(p.Vlan + 1) : (ushort)0,
                              vlanKey && p.HasInnerVlan ? (ushort)(p.InnerVlan + 1) : (ushort)0);
    }

    /// <summary>
    /// A hint that <paramref name="p"/> will be processed soon: looks its connection up and asks the CPU to
    /// bring the connection's state (the connection and the TCP objects allocated with it) into the cache.
    /// Changes nothing; a stale answer (the connection ends before the packet is processed) costs nothing.
    /// Called for a batch of packets ahead of <see cref="Process"/>, so the cache misses of several lookups
    /// overlap instead of stalling one packet at a time.
    /// </summary>
    public void Prefetch(in PacketSummary p) => PrefetchConnection(p);

    /// <summary><see cref="Prefetch"/>, handing back the connection found (a hint for <see cref="Process(in PacketSummary, Connection?)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    internal Connection? PrefetchConnection(in PacketSummary p)
    {
        var key = KeyOf(p, out _, out _, out _);
        var conn = _table.Find(key);
        if (conn is null)
            return null;
        PrefetchObject(conn);
        return conn;
    }

    private static unsafe void PrefetchObject(Connection conn)
    {
        if (!Sse.IsSupported)
            return;
        // The connection, its TcpSession and the two endpoints are allocated one after another.
        byte* at = (byte*)Unsafe.As<Connection, nint>(ref conn);
        for (int line = 0; line < PrefetchLines; line++)
            Sse.Prefetch0(at + line * 64);
    }

    private const int PrefetchLines = 12;

    /// <summary>Tracks one packet, after expiring the timers due at its time.</summary>
    public void Process(in PacketSummary p) => Process(p, null);

    /// <summary>
    /// Tracks one packet. <paramref name="hint"/> is what <see cref="PrefetchConnection"/> found for it earlier (or
    /// null): a connection still in the table (not removed since) under the packet's key saves the second lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    internal void Process(in PacketSummary p, Connection? hint)
    {
        AdvanceTime(p.Timestamp);

        var key = KeyOf(p, out var kind, out ushort srcPort, out ushort dstPort);

        // Every way out of the table marks the connection Removed, so one not removed is still the table's
        // entry for its key.
        if (hint is not null && !hint.Removed && hint.Key.Equals(key))
        {
            var conn = hint;
            if (conn.Tcp is { } tcp && tcp.IsReuse(p, p.Timestamp, _linger))
            {
                MarkRemoved(conn);
                var next = NewConnection(p, key, kind, srcPort, dstPort);
                _table.Find(key, key.GetHashCode(), out int at);
                _table.Replace(at, conn, next);
                Emit(conn);
                conn = next;
            }
            Deliver(conn, p, kind, srcPort);
        }
        else
            ProcessLookingUp(p, key, kind, srcPort, dstPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void ProcessLookingUp(in PacketSummary p, in FlowKey key, TransportProto kind, ushort srcPort, ushort dstPort)
    {
        int hash = key.GetHashCode();
        var conn = _table.Find(key, hash, out int slot);
        if (conn is null)
        {
            if (_table.Count >= Options.MaxConnections)
            {
                DroppedForCapacity++;
                return;
            }
            conn = NewConnection(p, key, kind, srcPort, dstPort);
            _table.Insert(slot, conn, hash);
        }
        else if (conn.Tcp is { } tcp && tcp.IsReuse(p, p.Timestamp, _linger))
        {
            // The old connection ends here; the packet starts a new one under the same key.
            MarkRemoved(conn);
            var next = NewConnection(p, key, kind, srcPort, dstPort);
            _table.Replace(slot, conn, next);
            Emit(conn);
            conn = next;
        }
        Deliver(conn, p, kind, srcPort);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void Deliver(Connection conn, in PacketSummary p, TransportProto kind, ushort srcPort)
    {
        bool isOrig = p.Src == conn.OrigAddr && srcPort == conn.OrigPort;
        switch (kind)
        {
            case TransportProto.Tcp: DeliverTcp(conn, p, isOrig); break;
            case TransportProto.Udp: DeliverUdp(conn, p, isOrig); break;
            case TransportProto.Icmp: DeliverIcmp(conn, p, isOrig); break;
            default:
                CountPacket(conn, p, isOrig);
                conn.LastTime = p.Timestamp;
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private Connection NewConnection(in PacketSummary p, in FlowKey key, TransportProto kind, ushort srcPort, ushort dstPort)
    {
        Connection conn = kind == TransportProto.Tcp
            ? new TcpSession(this, key, p.Timestamp)
            : new DatagramConnection(this, key, kind, p.Protocol, p.Timestamp);
        conn.Vlan = p.HasVlan ? p.Vlan : null;
        conn.InnerVlan = p.HasInnerVlan ? p.InnerVlan : null;
        conn.OrigL2 = p.SrcMac;
        conn.RespL2 = p.DstMac;
        conn.HasL2 = p.HasMacs;
        conn.PppoeSessionId = p.HasPppoe ? p.PppoeSessionId : null;
        conn.SetOriginator(p.Src, srcPort);

        bool flip = false;
        switch (kind)
        {
            case TransportProto.Tcp:
                flip = WantsTcpFlip(p.Flags, srcPort, dstPort);
                conn.Tcp!.StartedWithSynAck = (p.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack);
                Arm(conn, ConnTimerKind.TcpExpire, p.Timestamp + _synTimeout);
                // Zeek starts a TCP connection on the UDP inactivity timeout until its handshake completes.
                SetInactivityTimeout(conn, _udpInactivity);
                break;
            case TransportProto.Udp:
                flip = IsLikelyServerPort(srcPort, TransportProto.Udp) && !IsLikelyServerPort(dstPort, TransportProto.Udp);
                SetInactivityTimeout(conn, _udpInactivity);
                break;
            case TransportProto.Icmp:
                SetInactivityTimeout(conn, _icmpInactivity);
                break;
            default:
                SetInactivityTimeout(conn, _unknownInactivity);
                break;
        }

        // Never make a broadcast address the originator.
        if (flip && !(p.Dst.IsIPv4 && p.Dst.IPv4Value == 0xFFFF_FFFF))
            conn.FlipRoles();

        // Zeek's DNS analyzer, attached by responder port, expires quiet UDP DNS connections itself.
        if (kind == TransportProto.Udp && _dnsSessionTimeout > 0 && Options.DnsAnalyzerPorts.Contains(conn.RespPort))
            Arm(conn, ConnTimerKind.DnsExpire, p.Timestamp + _dnsSessionTimeout);
        return conn;
    }

    private bool IsLikelyServerPort(ushort port, TransportProto proto) => _likelyServerPorts.Contains(new PortSpec(port, proto));

    /// <summary>Zeek's TCPAnalyzer::WantConnection flip heuristic for a connection not starting with a plain SYN.</summary>
    private bool WantsTcpFlip(TcpFlags flags, ushort srcPort, ushort dstPort)
    {
        bool syn = (flags & TcpFlags.Syn) != 0;
        if (syn && (flags & TcpFlags.Ack) == 0) return false;
        if (!IsLikelyServerPort(srcPort, TransportProto.Tcp)) return false;
        if (IsLikelyServerPort(dstPort, TransportProto.Tcp))
            return !syn && srcPort < dstPort; // both plausible: favour the lower port, never for SYN-ACKs (stealth scans)
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void DeliverTcp(Connection conn, in PacketSummary p, bool isOrig)
    {
        var tcp = conn.Tcp!;
        if (!Options.IgnoreChecksums && p.Checksum == ChecksumStatus.Bad)
        {
            tcp.Side(isOrig).ChecksumError(conn);
            return;
        }

        // A connection first seen with a SYN-ACK flips once an ack or data shows who the client is.
        if (tcp.StartedWithSynAck && tcp.Orig.State == TcpEndpointState.SynAckSent && tcp.Resp.State == TcpEndpointState.Inactive &&
            (p.Flags & (TcpFlags.Syn | TcpFlags.Rst)) == 0 && ((p.Flags & TcpFlags.Ack) != 0 || p.PayloadLength > 0))
        {
            tcp.StartedWithSynAck = false;
            conn.FlipRolesRewritingHistory();
            isOrig = !isOrig;
        }

        tcp.Process(p, isOrig, p.Timestamp);
        // Process may have flipped the roles (SYN/SYN-ACK reversal): count with the direction as it is now.
        CountPacket(conn, p, p.Src == conn.OrigAddr && p.SrcPort == conn.OrigPort);
    }

    // Connection-level history masks for UDP (Zeek's HIST_ORIG_DATA_PKT / HIST_RESP_DATA_PKT).
    private const uint HistOrigData = 0x1, HistRespData = 0x1 << 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void DeliverUdp(Connection c, in PacketSummary p, bool isOrig)
    {
        var conn = (DatagramConnection)c;
        if (!Options.IgnoreChecksums && p.Checksum == ChecksumStatus.Bad)
        {
            if (isOrig) conn.ScaledHistoryEntry('C', ref conn.OrigChecksumCount, ref conn.OrigChecksumScale);
            else conn.ScaledHistoryEntry('c', ref conn.RespChecksumCount, ref conn.RespChecksumScale);
            return;
        }
        CountPacket(conn, p, isOrig);
        conn.LastTime = p.Timestamp;
        // Zeek counts UDP payload from the UDP header's own length field, not the IP length.
        int len = p.UdpLength - 8;
        if (isOrig)
        {
            conn.CheckHistory(HistOrigData, 'D');
            conn.OrigLen = conn.OrigLen < 0 ? len : conn.OrigLen + len;
        }
        else
        {
            conn.CheckHistory(HistRespData, 'd');
            conn.RespLen = conn.RespLen < 0 ? len : conn.RespLen + len;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void DeliverIcmp(Connection c, in PacketSummary p, bool isOrig)
    {
        var conn = (DatagramConnection)c;
        if (!Options.IgnoreChecksums && p.Checksum == ChecksumStatus.Bad)
            return;
        conn.LastTime = p.Timestamp;
        if (isOrig) conn.OrigLen = conn.OrigLen < 0 ? p.PayloadLength : conn.OrigLen + p.PayloadLength;
        else conn.RespLen = conn.RespLen < 0 ? p.PayloadLength : conn.RespLen + p.PayloadLength;
        if (p.CapturedPayloadLength >= p.PayloadLength)
            CountPacket(conn, p, isOrig);
    }

    private static void CountPacket(Connection conn, in PacketSummary p, bool isOrig)
    {
        if (isOrig)
        {
            conn.OrigPkts++;
            conn.OrigIpBytes += (ulong)p.IpLength;
        }
        else
        {
            conn.RespPkts++;
            conn.RespIpBytes += (ulong)p.IpLength;
        }
    }

    // ---- timers ----

    /// <summary>Moves the clock to <paramref name="now"/> (ns), expiring what is due (Zeek's TimerMgr::Advance).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public void AdvanceTime(long now)
    {
        if (now < _now) now = _now; // network time never goes back
        _now = now;
        int max = Options.MaxTimerExpires;
        int expired = 0;
        while ((max <= 0 || expired < max) && _timers.TryPeek(out var conn, out long due) && due <= now)
        {
            expired++;
            conn.Timers.TryGetEarliest(out int index, out _, out _);
            var kind = conn.Timers.RemoveAt(index).Kind;
            Fire(conn, kind, now);
            if (!conn.Removed)
                _timers.Update(conn);
        }
    }

    /// <summary>Arms a timer of <paramref name="conn"/> due at <paramref name="time"/> (ns).</summary>
    private void Arm(Connection conn, ConnTimerKind kind, long time)
    {
        conn.Timers.Add(new PendingTimer(time, _timerSeq++, kind));
        _timers.Update(conn);
    }

    private const int SessionTimers = 1 << (int)ConnTimerKind.TcpExpire | 1 << (int)ConnTimerKind.TcpAttempt | 1 << (int)ConnTimerKind.TcpCloseDelete;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void Fire(Connection conn, ConnTimerKind kind, long now)
    {
        switch (kind)
        {
            case ConnTimerKind.Inactivity:
                if (conn.LastTime + conn.InactivityTimeout <= now) Remove(conn);
                else Arm(conn, ConnTimerKind.Inactivity, conn.LastTime + conn.InactivityTimeout);
                break;

            case ConnTimerKind.TcpExpire:
                FireTcpExpire(conn, now);
                break;

            case ConnTimerKind.TcpAttempt:
            {
                var tcp = conn.Tcp!;
                if (!tcp.IsActive) return;
                if (tcp.Orig.State is TcpEndpointState.SynSent or TcpEndpointState.SynAckSent && tcp.Resp.State == TcpEndpointState.Inactive)
                {
                    tcp.IsActive = false;
                    Remove(conn);
                }
                break;
            }

            case ConnTimerKind.TcpCloseDelete:
                Remove(conn);
                break;

            case ConnTimerKind.DnsExpire:
                // A second of slack so a request and its reply do not re-arm the timer needlessly.
                if (now - conn.LastTime >= _dnsSessionTimeout - 1_000_000_000L) Remove(conn);
                else Arm(conn, ConnTimerKind.DnsExpire, now + _dnsSessionTimeout);
                break;
        }
    }

    private void FireTcpExpire(Connection conn, long now)
    {
        var tcp = conn.Tcp!;
        if (!tcp.IsActive) return;
        ref var o = ref tcp.Orig;
        ref var r = ref tcp.Resp;
        if (conn.LastTime + _linger < now)
        {
            if (o.DidClose || r.DidClose)
            {
                if ((o.DidClose && r.DidClose) ||
                    o.State == TcpEndpointState.Reset || r.State == TcpEndpointState.Reset ||
                    o.State == TcpEndpointState.Inactive || r.State == TcpEndpointState.Inactive)
                {
                    tcp.IsActive = false;
                    Remove(conn);
                    return;
                }
            }
            if (r.State == TcpEndpointState.Inactive && o.State == TcpEndpointState.Inactive)
            {
                Remove(conn);
                return;
            }
        }
        Arm(conn, ConnTimerKind.TcpExpire, now + _sessionTimer);
    }

    private void SetInactivityTimeout(Connection conn, long timeout)
    {
        if (timeout == conn.InactivityTimeout) return;
        conn.Timers.Cancel(ConnTimerSet.Bit(ConnTimerKind.Inactivity));
        if (timeout > 0)
            conn.Timers.Add(new PendingTimer(conn.LastTime + timeout, _timerSeq++, ConnTimerKind.Inactivity));
        _timers.Update(conn);
        conn.InactivityTimeout = timeout;
    }

    internal void OnHandshakeDone(Connection conn) => SetInactivityTimeout(conn, _tcpInactivity);

    /// <summary>connection_established: base/protocols/conn/inactivity.zeek applies the per-port timeouts here.</summary>
    internal void OnEstablished(Connection conn)
    {
        if (Options.PortInactivityTimeouts.TryGetValue(new PortSpec(conn.RespPort, TransportProto.Tcp), out var t))
            SetInactivityTimeout(conn, Nanos(t));
    }

    internal void ArmAttemptTimer(Connection conn, long now)
    {
        if (_attemptDelay > 0)
            Arm(conn, ConnTimerKind.TcpAttempt, now + _attemptDelay);
    }

    internal void ArmExpireTimer(Connection conn, long from) => Arm(conn, ConnTimerKind.TcpExpire, from + _sessionTimer);

    /// <summary>Both sides closed: cancel the session timers and delete after tcp_close_delay.</summary>
    internal void ArmCloseTimer(Connection conn)
    {
        conn.Timers.Cancel(SessionTimers);
        conn.Timers.Add(new PendingTimer(conn.LastTime + _closeDelay, _timerSeq++, ConnTimerKind.TcpCloseDelete));
        _timers.Update(conn);
    }

    // ---- removal ----

    /// <summary>Takes <paramref name="conn"/> out of the timers (Zeek cancels a removed connection's timers) and marks it removed.</summary>
    private void MarkRemoved(Connection conn)
    {
        conn.Removed = true;
        _timers.Remove(conn);
        conn.Timers.Clear();
    }

    private void Remove(Connection conn)
    {
        MarkRemoved(conn);
        _table.Remove(conn);
        Emit(conn);
    }

    /// <summary>Ends every open connection, as Zeek does at the end of its input.</summary>
    public void FlushAll()
    {
        var open = new List<Connection>(_table.Count);
        _table.CopyTo(open);
        open.Sort((a, b) => a.StartTime.CompareTo(b.StartTime));
        _table.Clear();
        _timers.Clear();
        foreach (var conn in open)
        {
            conn.Removed = true;
            conn.Timers = default;
            Emit(conn);
        }
    }

    private void Emit(Connection conn) => Sink.Write(BuildRecord(conn));

    /// <summary>conn.log's fields for a connection, derived at removal as Zeek's set_conn does.</summary>
    private ConnRecord BuildRecord(Connection conn)
    {
        var history = conn.History;
        var rec = new ConnRecord
        {
            Ts = conn.StartTime,
            Uid = _uids.NextUid(),
            OrigH = conn.OrigAddr,
            OrigP = conn.OrigPort,
            RespH = conn.RespAddr,
            RespP = conn.RespPort,
            Proto = conn.Kind,
            MissedBytes = conn.Tcp?.MissedBytes ?? 0,
            History = history.Length > 0 ? history : null,
            IpProto = conn.Protocol,
        };
        // The packet and IP-byte columns come from Zeek's ConnSize analyzer; without it Zeek leaves them unset.
        if (Options.UseConnSizeAnalyzer)
        {
            rec.OrigPkts = conn.OrigPkts;
            rec.OrigIpBytes = conn.OrigIpBytes;
            rec.RespPkts = conn.RespPkts;
            rec.RespIpBytes = conn.RespIpBytes;
        }
        rec.Vlan = conn.Vlan;
        rec.InnerVlan = conn.InnerVlan;
        rec.PppoeSessionId = conn.PppoeSessionId;
        if (conn.HasL2)
        {
            rec.OrigL2Addr = conn.OrigL2;
            rec.RespL2Addr = conn.RespL2;
        }

        ulong origSize, respSize;
        switch (conn.Kind)
        {
            case TransportProto.Tcp:
                var tcp = conn.Tcp!;
                origSize = tcp.Orig.Size(tcp);
                respSize = tcp.Resp.Size(tcp);
                rec.ConnState = ConnStateClassifier.Tcp(tcp.Orig.State, tcp.Resp.State, origSize, respSize, history);
                break;
            case TransportProto.Udp:
                var udp = (DatagramConnection)conn;
                origSize = (ulong)Math.Max(0, udp.OrigLen);
                respSize = (ulong)Math.Max(0, udp.RespLen);
                rec.ConnState = ConnStateClassifier.Udp(udp.OrigLen >= 0, udp.RespLen >= 0);
                break;
            case TransportProto.Icmp:
                var icmp = (DatagramConnection)conn;
                origSize = (ulong)Math.Max(0, icmp.OrigLen);
                respSize = (ulong)Math.Max(0, icmp.RespLen);
                rec.ConnState = "OTH";
                break;
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
            rec.LocalOrig = _localNets.Contains(conn.OrigAddr);
            rec.LocalResp = _localNets.Contains(conn.RespAddr);
        }
        return rec;
    }
}

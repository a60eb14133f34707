using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Records;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking.Tcp;

/// <summary>
/// Zeek's TCP session logic for one connection (TCPSessionAdapter::Process and UpdateStateMachine, the
/// history rules, sequence tracking, the close/expire decisions), reduced to what conn.log depends on.
/// </summary>
internal sealed class TcpSession : Connection
{
    // History masks (Zeek's TCP_Endpoint HIST_*); shifted left by 16 for the responder.
    private const uint HistSyn = 0x1, HistFin = 0x2, HistRst = 0x4, HistFinRst = 0x8, HistData = 0x10,
                       HistAck = 0x20, HistMultiFlag = 0x40;

    private const int TooLargeSeqDelta = 1048576;

    // init-bare.zeek reassembly limits.
    public const ulong MaxInitialWindow = 16384;          // tcp_max_initial_window
    public const ulong MaxAboveHoleWithoutAnyAcks = 16384; // tcp_max_above_hole_without_any_acks

    private const byte FirstOrig = 1, FirstResp = 2;

    public TcpSession(ConnTracker tracker, in FlowKey key, long startTime)
        : base(tracker, key, TransportProto.Tcp, 6, startTime)
    {
        _first = new TcpEndpoint(true);
        _second = new TcpEndpoint(false);
    }

    /// <summary>The connection (this object: the TCP state is part of it).</summary>
    private Connection Conn => this;
    // The two endpoints, inline; _flipped says which one is the originator now (a role flip swaps nothing).
    private TcpEndpoint _first, _second;
    private bool _flipped;
    /// <summary>Bytes of acked content gaps (conn.log's missed_bytes).</summary>
    public ulong MissedBytes;
    public ref TcpEndpoint Orig => ref _flipped ? ref _second : ref _first;
    public ref TcpEndpoint Resp => ref _flipped ? ref _first : ref _second;
    /// <summary>The originator's endpoint when <paramref name="isOrig"/>, else the responder's.</summary>
    public ref TcpEndpoint Side(bool isOrig) => ref isOrig != _flipped ? ref _first : ref _second;
    /// <summary>tcp_excessive_data_without_further_acks (0: no limit); the same for every connection.</summary>
    public ulong ExcessiveDataWithoutFurtherAcks => Conn.Tracker.ExcessiveDataWithoutFurtherAcks;

    public bool IsActive = true;
    public bool IsPartial;
    private byte _firstPacketSeen;
    private bool _closeDeferred;
    private bool _deferredGenEvent;

    /// <summary>Set when the first packet was a SYN-ACK, for the ack-or-data flip (Zeek PR 2191).</summary>
    public bool StartedWithSynAck;

    public bool IsClosed => Orig.DidClose || Resp.DidClose;
    public bool BothClosed => Orig.DidClose && Resp.DidClose;

    public void FlipEndpoints()
    {
        _flipped = !_flipped;
        Orig.IsOrig = true;
        Resp.IsOrig = false;
        _firstPacketSeen = (byte)(((_firstPacketSeen & FirstOrig) != 0 ? FirstResp : 0) | ((_firstPacketSeen & FirstResp) != 0 ? FirstOrig : 0));
        IsPartial = false;
    }

    private static int SeqDelta(uint a, uint b) => (int)(a - b);

    private static int SegmentLength(int payload, TcpFlags flags)
    {
        int len = payload;
        if ((flags & TcpFlags.Syn) != 0) len++;
        if ((flags & TcpFlags.Fin) != 0) len++;
        if ((flags & TcpFlags.Rst) != 0) len -= payload; // RST payload is not part of the stream
        return len;
    }

    /// <summary>Zeek's IsReuse: does this packet start a new connection on the same 5-tuple?</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public bool IsReuse(in PacketSummary p, long now, long connectionLinger)
    {
        if (p.TransportHeaderLength < 20) return false;
        var flags = p.Flags;
        if ((flags & TcpFlags.Syn) == 0) return false;

        bool ack = (flags & TcpFlags.Ack) != 0;
        if (ack && Orig.State != TcpEndpointState.Inactive) return false; // not a half connection
        ref var connOrig = ref Side(!ack);

        if (!IsClosed)
        {
            if (p.Seq == connOrig.StartSeq) return false;
            if ((flags & TcpFlags.Ack) == 0 && connOrig.State == TcpEndpointState.SynAckSent &&
                Resp.State == TcpEndpointState.Inactive && p.Seq == Resp.StartSeq)
                return false; // SYN and SYN-ACK seen in reverse order: Process flips it
        }
        return true;
    }

    private static void InitEndpoint(ref TcpEndpoint e, TcpFlags flags, uint firstSeq, uint lastSeq)
    {
        bool syn = (flags & TcpFlags.Syn) != 0;
        switch (e.State)
        {
            case TcpEndpointState.Inactive:
                if (syn)
                {
                    e.InitAckSeq(firstSeq);
                    e.InitStartSeq(firstSeq);
                }
                else
                {
                    // A partial connection: number as though a SYN was seen.
                    e.InitAckSeq(firstSeq - 1);
                    e.InitStartSeq(firstSeq - 1);
                    lastSeq = firstSeq;
                }
                e.InitLastSeq(lastSeq);
                break;
            case TcpEndpointState.SynSent:
            case TcpEndpointState.SynAckSent:
                if (syn && firstSeq != e.StartSeq)
                {
                    e.InitStartSeq(firstSeq);
                    e.InitAckSeq(firstSeq);
                    e.InitLastSeq(lastSeq);
                }
                break;
            case TcpEndpointState.Established:
            case TcpEndpointState.Partial:
                if (syn)
                {
                    e.InitStartSeq(firstSeq);
                    e.InitAckSeq(firstSeq);
                    e.InitLastSeq(lastSeq);
                }
                break;
            case TcpEndpointState.Reset:
                if (syn && e.PrevState == TcpEndpointState.Inactive)
                {
                    e.InitStartSeq(firstSeq);
                    e.InitAckSeq(firstSeq);
                    e.InitLastSeq(lastSeq);
                }
                break;
        }
    }

    private static ulong RelativeSeq(in TcpEndpoint e, uint cur, uint last, uint wraps, ref bool underflow)
    {
        int delta = SeqDelta(cur, last);
        if (delta < 0)
        {
            if (wraps != 0 && cur > last) wraps--;
        }
        else if (delta > 0)
        {
            if (cur < last) wraps++;
        }
        if (wraps == 0)
        {
            delta = SeqDelta(cur, e.StartSeq);
            if (delta < 0) underflow = true;
            return (ulong)(long)delta;
        }
        return e.ToRelativeSeqSpace(cur, wraps);
    }

    private void UpdateHistory(TcpFlags flags, ref TcpEndpoint e, ulong relSeq, int len)
    {
        bool syn = (flags & TcpFlags.Syn) != 0, fin = (flags & TcpFlags.Fin) != 0, rst = (flags & TcpFlags.Rst) != 0;
        int bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
        if (bits > 1)
        {
            if (fin && rst) e.CheckHistory(HistFinRst, 'I', Conn);
            else e.CheckHistory(HistMultiFlag, 'Q', Conn);
        }
        else if (bits == 1)
        {
            if (syn)
            {
                char code = (flags & TcpFlags.Ack) != 0 ? 'H' : 'S';
                if (e.CheckHistory(HistSyn, code, Conn) && relSeq != e.HistLastSyn) e.AddHistory(code, Conn);
                e.HistLastSyn = relSeq;
            }
            if (fin)
            {
                // A FIN's sequence number is at the end of its data.
                ulong finSeq = relSeq + (ulong)len;
                if (e.CheckHistory(HistFin, 'F', Conn) && finSeq != e.HistLastFin) e.AddHistory('F', Conn);
                e.HistLastFin = finSeq;
            }
            if (rst)
            {
                if (e.CheckHistory(HistRst, 'R', Conn) && relSeq != e.HistLastRst) e.AddHistory('R', Conn);
                e.HistLastRst = relSeq;
            }
        }
        else if (len > 0)
            e.CheckHistory(HistData, 'D', Conn);
        else if ((flags & TcpFlags.Ack) != 0)
            e.CheckHistory(HistAck, 'A', Conn);
    }

    private void SetPartialStatus(TcpFlags flags, bool isOrig)
    {
        bool syn = (flags & TcpFlags.Syn) != 0, ack = (flags & TcpFlags.Ack) != 0;
        if (isOrig)
        {
            if ((_firstPacketSeen & FirstOrig) == 0) IsPartial = !syn || ack;
        }
        else if ((_firstPacketSeen & FirstResp) == 0 && !IsPartial)
            IsPartial = !syn;
    }

    /// <summary>One packet that passed the checksum check (TCPSessionAdapter::Process).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public void Process(in PacketSummary p, bool isOrig, long now)
    {
        var flags = p.Flags;
        int len = p.PayloadLength;
        uint baseSeq = p.Seq, ackSeq = p.Ack;
        ref var endpoint = ref Side(isOrig);
        ref var peer = ref Side(!isOrig);

        SetPartialStatus(flags, endpoint.IsOrig);

        int segLen = SegmentLength(len, flags);
        uint seqOnePast = baseSeq + (uint)segLen;
        InitEndpoint(ref endpoint, flags, baseSeq, seqOnePast);

        bool seqUnderflow = false;
        ulong relSeq = RelativeSeq(endpoint, baseSeq, endpoint.LastSeq, endpoint.SeqWraps, ref seqUnderflow);

        UpdateHistory(flags, ref endpoint, relSeq, len);

        // Zero window: interesting unless with/after a RST or after the peer's FIN.
        if (p.Window == 0 && (flags & TcpFlags.Rst) == 0 && peer.State != TcpEndpointState.Closed &&
            endpoint.State != TcpEndpointState.Reset)
            endpoint.ZeroWindow(Conn);

        if (!Orig.DidClose || !Resp.DidClose)
            Conn.LastTime = now;

        if ((flags & TcpFlags.Fin) != 0)
        {
            endpoint.SawFin = true;
            endpoint.FinSeq = relSeq + (ulong)segLen;
        }

        ulong relAck = 0;
        if ((flags & TcpFlags.Ack) != 0)
        {
            if (peer.State == TcpEndpointState.Inactive)
            {
                relAck = 1;
                // Number the peer as though its SYN was seen.
                peer.InitStartSeq(ackSeq - 1);
                peer.InitAckSeq(ackSeq - 1);
                peer.InitLastSeq(ackSeq - 1);
            }
            else
            {
                bool ackUnderflow = false;
                relAck = RelativeSeq(peer, ackSeq, peer.AckSeq, peer.AckWraps, ref ackUnderflow);
                if (ackUnderflow)
                    relAck = 0;
                else if ((flags & TcpFlags.Rst) == 0) // acks in RSTs are not trusted
                {
                    int deltaAck = SeqDelta(ackSeq, peer.AckSeq);
                    if (!(ackSeq == 0 && deltaAck > TooLargeSeqDelta) && deltaAck > 0)
                        peer.UpdateAckSeq(ackSeq);
                }
            }
        }

        int deltaLast = UpdateLastSeq(ref endpoint, seqOnePast, flags, len);

        UpdateStateMachine(ref endpoint, ref peer, baseSeq, ackSeq, len, deltaLast, endpoint.IsOrig, flags, now,
                           out bool doClose, out bool genEvent);

        if ((flags & TcpFlags.Ack) != 0)
            peer.AckReceived(relAck, this);

        // PIA first-packet bookkeeping.
        _firstPacketSeen |= endpoint.IsOrig ? FirstOrig : FirstResp;

        ulong relDataSeq = (flags & TcpFlags.Syn) != 0 ? relSeq + 1 : relSeq;
        if (len > 0 && (flags & TcpFlags.Rst) == 0 && !seqUnderflow && p.CapturedPayloadLength >= len)
            endpoint.DataSent(relDataSeq, len, this);

        endpoint.CheckEof(this);

        if (doClose)
            ConnectionClosed(ref endpoint, ref peer, genEvent);
    }

    private int UpdateLastSeq(ref TcpEndpoint e, uint lastSeq, TcpFlags flags, int len)
    {
        int deltaLast = SeqDelta(lastSeq, e.LastSeq);
        if ((flags & (TcpFlags.Syn | TcpFlags.Rst)) != 0 && (deltaLast > TooLargeSeqDelta || deltaLast < -TooLargeSeqDelta))
        {
            // don't trust wild SYN/RST sequence numbers
        }
        else if ((flags & TcpFlags.Fin) != 0 && e.LastSeq == e.StartSeq + 1)
            e.UpdateLastSeq(lastSeq); // > 2 GB connections where only the SYN and FIN were seen
        else if (e.State == TcpEndpointState.Reset)
        {
            // don't trust any sequence numbers after a RST
        }
        else if (deltaLast > 0)
            e.UpdateLastSeq(lastSeq);
        else if (deltaLast <= 0 && len > 0)
            e.DidRetransmit(Conn);
        return deltaLast;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void UpdateStateMachine(ref TcpEndpoint endpoint, ref TcpEndpoint peer, uint baseSeq, uint ackSeq, int len,
                                    int deltaLast, bool isOrig, TcpFlags flags, long now,
                                    out bool doClose, out bool genEvent)
    {
        doClose = false;
        genEvent = false;
        switch (endpoint.State)
        {
            case TcpEndpointState.Inactive:
                UpdateInactiveState(ref endpoint, ref peer, baseSeq, len, isOrig, flags, now, ref doClose, ref genEvent);
                break;
            case TcpEndpointState.SynSent:
            case TcpEndpointState.SynAckSent:
                if ((flags & TcpFlags.Fin) != 0)
                {
                    endpoint.SetState(TcpEndpointState.Closed, this);
                    doClose = genEvent = true;
                }
                if ((flags & TcpFlags.Rst) != 0)
                {
                    endpoint.SetState(TcpEndpointState.Reset, this);
                    IsActive = false; // ConnectionReset
                    doClose = true;
                }
                break;
            case TcpEndpointState.Established:
            case TcpEndpointState.Partial:
                if ((flags & TcpFlags.Syn) != 0 && endpoint.State == TcpEndpointState.Partial &&
                    peer.State == TcpEndpointState.Inactive && (flags & TcpFlags.Ack) == 0)
                    endpoint.SetState(TcpEndpointState.SynSent, this); // SYN after partial
                if ((flags & TcpFlags.Fin) != 0 && (flags & TcpFlags.Rst) == 0)
                {
                    endpoint.SetState(TcpEndpointState.Closed, this);
                    if (peer.State == TcpEndpointState.Reset && peer.PrevState == TcpEndpointState.Closed)
                        peer.SetState(TcpEndpointState.Closed, this); // FIN then RST from the peer: a normal close
                    doClose = genEvent = true;
                }
                if ((flags & TcpFlags.Rst) != 0)
                {
                    endpoint.SetState(TcpEndpointState.Reset, this);
                    doClose = true;
                    if (peer.State != TcpEndpointState.Reset || peer.PrevState != TcpEndpointState.Established)
                        IsActive = false; // ConnectionReset
                }
                break;
            case TcpEndpointState.Closed:
                if ((flags & TcpFlags.Rst) != 0 && peer.State != TcpEndpointState.Closed)
                {
                    endpoint.SetState(TcpEndpointState.Reset, this);
                    if (!endpoint.DidClose) doClose = true; // RST after FIN
                    // Zeek's ResetTimer is armed only when a script handles connection_reset.
                }
                break;
            case TcpEndpointState.Reset:
                break;
        }
    }

    private void UpdateInactiveState(ref TcpEndpoint endpoint, ref TcpEndpoint peer, uint baseSeq, int len, bool isOrig,
                                     TcpFlags flags, long now, ref bool doClose, ref bool genEvent)
    {
        bool syn = (flags & TcpFlags.Syn) != 0, ack = (flags & TcpFlags.Ack) != 0;
        if (syn)
        {
            if (isOrig)
            {
                endpoint.SetState(ack ? TcpEndpointState.SynAckSent : TcpEndpointState.SynSent, this);
                Conn.Tracker.ArmAttemptTimer(Conn, now);
            }
            else
            {
                if (!ack && peer.State == TcpEndpointState.SynAckSent && baseSeq == endpoint.StartSeq)
                {
                    // SYN and SYN-ACK seen in reverse order: flip and establish.
                    IsPartial = false;
                    Conn.FlipRoles();
                    peer.SetState(TcpEndpointState.Established, this);
                    _firstPacketSeen |= FirstOrig;
                }

                if (peer.State == TcpEndpointState.SynSent)
                    peer.SetState(TcpEndpointState.Established, this);

                endpoint.SetState(TcpEndpointState.Established, this);

                if (peer.State != TcpEndpointState.Partial)
                    Conn.Tracker.OnEstablished(Conn);
            }
        }

        if ((flags & TcpFlags.Fin) != 0)
        {
            endpoint.SetState(TcpEndpointState.Closed, this);
            doClose = genEvent = true;
        }

        if ((flags & TcpFlags.Rst) != 0)
        {
            endpoint.SetState(TcpEndpointState.Reset, this);
            bool isReject = isOrig
                ? peer.State == TcpEndpointState.Established
                : peer.State is TcpEndpointState.SynSent or TcpEndpointState.SynAckSent;
            doClose = true;
            genEvent = !isReject;
        }

        if (endpoint.State == TcpEndpointState.Inactive)
        {
            if (!isOrig && len == 0 && Orig.State == TcpEndpointState.SynSent)
            {
                // an ack of the SYN before the SYN-ACK: not a partial connection
            }
            else if (ack && peer.State == TcpEndpointState.Established)
            {
                // SYN-ACK seen, SYN missed, now a pure ack: establish rather than call it partial.
                endpoint.SetState(TcpEndpointState.Established, this);
                IsPartial = false;
                _firstPacketSeen |= isOrig ? FirstOrig : FirstResp;
            }
            else
                endpoint.SetState(TcpEndpointState.Partial, this);
        }
    }

    /// <summary>An acked hole: history 'G'/'g' and missed_bytes, when Zeek would report it.</summary>
    public void Gap(ref TcpEndpoint e, ulong seq, ulong len)
    {
        bool clean = IsClean(e) && IsClean(Side(!e.IsOrig));
        if (clean) e.Gap(Conn);
        if (clean || Conn.Tracker.Options.ReportGapsForPartial)
            MissedBytes += len;
    }

    private static bool IsClean(in TcpEndpoint e) =>
        e.State == TcpEndpointState.Established ||
        (e.State == TcpEndpointState.Closed && e.PrevState == TcpEndpointState.Established);

    public void EndpointEof(bool isOrig)
    {
        if (_closeDeferred)
        {
            ConnectionClosed(ref Side(isOrig), ref Side(!isOrig), _deferredGenEvent);
            _closeDeferred = false;
        }
    }

    private void ConnectionClosed(ref TcpEndpoint endpoint, ref TcpEndpoint peer, bool genEvent)
    {
        if (endpoint.DataPending(this))
        {
            _closeDeferred = true;
            if (!_deferredGenEvent) _deferredGenEvent = genEvent;
            return;
        }
        _closeDeferred = false;

        if (endpoint.DidClose) return;
        endpoint.DidClose = true;

        bool closeComplete = endpoint.State == TcpEndpointState.Reset || peer.DidClose || peer.State == TcpEndpointState.Inactive;
        if (closeComplete)
        {
            if (endpoint.PrevState != TcpEndpointState.Inactive || peer.State != TcpEndpointState.Inactive)
            {
                if (_deferredGenEvent) { genEvent = true; _deferredGenEvent = false; }
                if (genEvent) IsActive = false; // ConnectionFinished
            }
            Conn.Tracker.ArmCloseTimer(Conn);
        }
        else if (endpoint.PrevState != TcpEndpointState.Inactive)
            Conn.Tracker.ArmExpireTimer(Conn, Conn.LastTime);
        // else: Zeek's PartialCloseTimer, armed only when a script handles connection_partial_close.
    }
}

using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Tracking.Tcp;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// Zeek's TCP session logic for one connection (TCPSessionAdapter::Process and UpdateStateMachine, the
/// history rules, sequence tracking, the close/expire decisions, and the part of the reassembler conn.log
/// depends on), reduced to what conn.log depends on: the TCP part of the connection struct. The endpoints' hot
/// state is inline (<see cref="TcpEndpoint"/>); their cold state (<see cref="TcpEndpointCold"/>) is in
/// <see cref="Connection.Cold"/>, created on first use. Sequence numbers handed to the reassembly part are
/// relative: the first data byte is 1.
/// </summary>
internal partial struct Connection
{
    // History masks (Zeek's TCP_Endpoint HIST_*); shifted left by RespHistShift for the responder.
    private const uint HistSyn = 0x1, HistFin = 0x2, HistRst = 0x4, HistFinRst = 0x8, HistData = 0x10,
                       HistAck = 0x20, HistMultiFlag = 0x40;

    private const int TooLargeSeqDelta = 1048576;

    // init-bare.zeek reassembly limits.
    public const ulong MaxInitialWindow = 16384;          // tcp_max_initial_window
    public const ulong MaxAboveHoleWithoutAnyAcks = 16384; // tcp_max_above_hole_without_any_acks

    // The session's flags (Connection._tcpBits).
    private const byte FlippedBit = 1, InactiveBit = 2, PartialBit = 4, FirstOrig = 8, FirstResp = 16,
                       CloseDeferredBit = 32, DeferredGenEventBit = 64, StartedWithSynAckBit = 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetTcpBit(byte bit, bool value) => _tcpBits = value ? (byte)(_tcpBits | bit) : (byte)(_tcpBits & ~bit);

    /// <summary>Makes this a new TCP connection's state: both endpoints inactive, the session active.</summary>
    public void InitTcp()
    {
        _tcp.First = TcpEndpoint.Create(isOrig: true, second: false);
        _tcp.Second = TcpEndpoint.Create(isOrig: false, second: true);
        _tcpBits = 0;
    }

    /// <summary>The endpoints are swapped in role (a flip swaps nothing but this bit).</summary>
    private readonly bool Flipped => (_tcpBits & FlippedBit) != 0;
    public bool IsActive { readonly get => (_tcpBits & InactiveBit) == 0; set => SetTcpBit(InactiveBit, !value); }
    public bool IsPartial { readonly get => (_tcpBits & PartialBit) != 0; set => SetTcpBit(PartialBit, value); }
    private bool CloseDeferred { readonly get => (_tcpBits & CloseDeferredBit) != 0; set => SetTcpBit(CloseDeferredBit, value); }
    private bool DeferredGenEvent { readonly get => (_tcpBits & DeferredGenEventBit) != 0; set => SetTcpBit(DeferredGenEventBit, value); }
    /// <summary>Set when the first packet was a SYN-ACK, for the ack-or-data flip (Zeek PR 2191).</summary>
    public bool StartedWithSynAck { readonly get => (_tcpBits & StartedWithSynAckBit) != 0; set => SetTcpBit(StartedWithSynAckBit, value); }

    /// <summary>PIA first-packet bookkeeping: FirstOrig and FirstResp bits of the session flags.</summary>
    private byte FirstPacketSeen
    {
        readonly get => (byte)(_tcpBits & (FirstOrig | FirstResp));
        set => _tcpBits = (byte)((_tcpBits & ~(FirstOrig | FirstResp)) | (value & (FirstOrig | FirstResp)));
    }

    [UnscopedRef] public ref TcpEndpoint Orig => ref Flipped ? ref _tcp.Second : ref _tcp.First;
    [UnscopedRef] public ref TcpEndpoint Resp => ref Flipped ? ref _tcp.First : ref _tcp.Second;
    /// <summary>The originator's endpoint when <paramref name="isOrig"/>, else the responder's.</summary>
    [UnscopedRef] public ref TcpEndpoint Side(bool isOrig) => ref isOrig != Flipped ? ref _tcp.First : ref _tcp.Second;

    public bool IsClosed => Orig.DidClose || Resp.DidClose;
    public bool BothClosed => Orig.DidClose && Resp.DidClose;

    /// <summary>Bytes of acked content gaps (conn.log's missed_bytes).</summary>
    public readonly ulong MissedBytes => Rare?.MissedBytes ?? 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    private void FlipEndpoints()
    {
        _tcpBits ^= FlippedBit;
        Orig.IsOrig = true;
        Resp.IsOrig = false;
        byte seen = FirstPacketSeen;
        FirstPacketSeen = (byte)(((seen & FirstOrig) != 0 ? FirstResp : 0) | ((seen & FirstResp) != 0 ? FirstOrig : 0));
        IsPartial = false;
    }

    // ---- the endpoints' cold part and per-endpoint helpers ----

    /// <summary>The cold part of endpoint <paramref name="e"/> (creating the connection's cold part if needed).</summary>
    private ref TcpEndpointCold ColdOf(in TcpEndpoint e)
    {
        var cold = ColdPart;
        return ref e.IsSecond ? ref cold.Second : ref cold.First;
    }

    /// <summary>The rare part of endpoint <paramref name="e"/> (creating the connection's cold and rare parts if needed).</summary>
    private ref TcpEndpointRare RareOf(in TcpEndpoint e)
    {
        var rare = RarePart;
        return ref e.IsSecond ? ref rare.Second : ref rare.First;
    }

    private readonly ulong LastReassemSeqOf(in TcpEndpoint e) =>
        Cold is null ? TcpEndpointCold.InitialReassemSeq : e.IsSecond ? Cold.Second.LastReassemSeq : Cold.First.LastReassemSeq;

    /// <summary>Whether the first or <paramref name="second"/> endpoint has data received beyond a hole.</summary>
    private readonly bool HasUndeliveredData(bool second) =>
        Cold is not null && (second ? Cold.Second.HasUndeliveredData : Cold.First.HasUndeliveredData);

    /// <summary>The relative sequence of the endpoint's last SYN (0), FIN (1) or RST (2) for the history; 0 until one is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private readonly ulong HistLastOf(in TcpEndpoint e, int which)
    {
        if (which == 1)
        {
            if (Cold is null) return 0;
            return e.IsSecond ? Cold.Second.HistLastFin : Cold.First.HistLastFin;
        }
        if (Rare is not { } rare) return 0;
        ref readonly var r = ref e.IsSecond ? ref rare.Second : ref rare.First;
        return which == 0 ? r.HistLastSyn : r.HistLastRst;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void SetHistLast(in TcpEndpoint e, int which, ulong seq)
    {
        if (which == 1)
        {
            if (seq == 0 && Cold is null) return; // the value it has without a cold part
            ColdOf(e).HistLastFin = seq;
            return;
        }
        if (seq == 0 && Rare is null) return; // the value it has without a rare part
        ref var r = ref RareOf(e);
        if (which == 0) r.HistLastSyn = seq;
        else r.HistLastRst = seq;
    }

    private void SetState(ref TcpEndpoint e, TcpEndpointState newState, ConnTracker t)
    {
        if (newState == e.State) return;
        // Finishing the handshake switches the connection to the TCP inactivity timeout.
        if (!IsHandshake(newState) && IsHandshake(e.State) && IsHandshake(Side(!e.IsOrig).State))
            t.OnHandshakeDone(ref this);
        e.PrevState = e.State;
        e.State = newState;
    }

    private static bool IsHandshake(TcpEndpointState s) =>
        s is TcpEndpointState.Inactive or TcpEndpointState.SynSent or TcpEndpointState.SynAckSent;

    private bool EndpointCheckHistory(in TcpEndpoint e, uint mask, char code)
    {
        if (!e.IsOrig)
        {
            mask <<= RespHistShift;
            code = char.ToLowerInvariant(code);
        }
        return CheckHistory(mask, code);
    }

    private void EndpointAddHistory(in TcpEndpoint e, char code) => AddHistory(e.IsOrig ? code : char.ToLowerInvariant(code));

    /// <summary>A segment with a bad checksum from endpoint <paramref name="e"/>.</summary>
    public void ChecksumError(ref TcpEndpoint e) => ScaledHistoryEntry(e.IsOrig ? 'C' : 'c', ref RareOf(e).ChecksumCount, ref RareOf(e).ChecksumScale);
    private void DidRetransmit(ref TcpEndpoint e) => ScaledHistoryEntry(e.IsOrig ? 'T' : 't', ref RareOf(e).RetransmitCount, ref RareOf(e).RetransmitScale);
    private void ZeroWindow(ref TcpEndpoint e) => ScaledHistoryEntry(e.IsOrig ? 'W' : 'w', ref RareOf(e).ZeroWindowCount, ref RareOf(e).ZeroWindowScale);

    /// <summary>Bytes endpoint <paramref name="e"/> sent (conn.log's orig_bytes/resp_bytes).</summary>
    public ulong Size(in TcpEndpoint e) => e.Size(Side(!e.IsOrig).State);

    // ---- reassembly bookkeeping (TCP_Reassembler, without payload) ----

    /// <summary>Data at relative <paramref name="seq"/> of <paramref name="len"/> bytes arrived (TCP_Reassembler::DataSent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void DataSent(ref TcpEndpoint e, ulong seq, int len, ConnTracker t)
    {
        if (e.SkipDeliveries || len <= 0) return;
        ulong ack = e.ToRelativeSeqSpace(e.AckSeq, e.AckWraps);
        ulong upper = seq + (ulong)len;
        if (seq < ack)
        {
            if (upper <= ack) return; // already delivered and acked
            seq = ack;
        }
        ref var k = ref ColdOf(e);
        NewBlock(ref e, ref k, seq, upper, t);

        ulong undelivered = k.Above is { Count: > 0 } ? k.Above[^1].hi - k.LastReassemSeq : 0;
        if (e.NoDataAcked() && MaxAboveHoleWithoutAnyAcks > 0 && undelivered > MaxAboveHoleWithoutAnyAcks)
        {
            ClearBlocks(ref k);
            e.SkipDeliveries = true;
        }
        ulong buffered = k.BufferedAcked + (k.Above is null ? 0 : SumAbove(k.Above));
        if (t.ExcessiveDataWithoutFurtherAcks > 0 && buffered > t.ExcessiveDataWithoutFurtherAcks)
        {
            ClearBlocks(ref k);
            e.SkipDeliveries = true;
        }
    }

    private static ulong SumAbove(List<(ulong lo, ulong hi)> above)
    {
        ulong sum = 0;
        foreach (var (lo, hi) in above) sum += hi - lo;
        return sum;
    }

    private static void ClearBlocks(ref TcpEndpointCold k)
    {
        k.Above?.Clear();
        k.BufferedAcked = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void NewBlock(ref TcpEndpoint e, ref TcpEndpointCold k, ulong seq, ulong upper, ConnTracker t)
    {
        if (upper <= k.TrimSeq) return;
        if (seq < k.TrimSeq) seq = k.TrimSeq;

        if (seq <= k.LastReassemSeq)
        {
            if (upper > k.LastReassemSeq)
            {
                k.BufferedAcked += upper - k.LastReassemSeq;
                k.LastReassemSeq = upper;
                DeliverContiguous(ref k);
            }
        }
        else
        {
            InsertAbove(ref k, seq, upper);
        }

        // Don't hold on to data nobody acks (tcp_max_initial_window).
        if (e.NoDataAcked() && MaxInitialWindow > 0 && Size(e) > MaxInitialWindow)
            TrimToSeq(ref e, ref k, k.LastReassemSeq, t);
    }

    private static void InsertAbove(ref TcpEndpointCold k, ulong lo, ulong hi)
    {
        var above = k.Above ??= new List<(ulong, ulong)>(4);
        int i = 0;
        while (i < above.Count && above[i].hi < lo) i++;
        // merge with every overlapping or touching range
        while (i < above.Count && above[i].lo <= hi)
        {
            lo = Math.Min(lo, above[i].lo);
            hi = Math.Max(hi, above[i].hi);
            above.RemoveAt(i);
        }
        above.Insert(i, (lo, hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private static void DeliverContiguous(ref TcpEndpointCold k)
    {
        var above = k.Above;
        if (above is null) return;
        while (above.Count > 0 && above[0].lo <= k.LastReassemSeq)
        {
            var (lo, hi) = above[0];
            above.RemoveAt(0);
            if (hi > k.LastReassemSeq)
            {
                k.BufferedAcked += hi - k.LastReassemSeq;
                k.LastReassemSeq = hi;
            }
        }
    }

    /// <summary>The peer acked endpoint <paramref name="e"/> up to relative <paramref name="seq"/> (TCP_Reassembler::AckReceived).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void AckReceived(ref TcpEndpoint e, ulong seq, ConnTracker t)
    {
        if (e.SawFin)
        {
            ulong finSeq = Cold is null ? 0 : e.IsSecond ? Cold.Second.FinSeq : Cold.First.FinSeq;
            if (seq >= finSeq)
                seq = finSeq - 1;
        }
        ulong trimSeq = Cold is null ? TcpEndpointCold.InitialReassemSeq : e.IsSecond ? Cold.Second.TrimSeq : Cold.First.TrimSeq;
        if (seq <= trimSeq) return;
        TrimToSeq(ref e, ref ColdOf(e), seq, t);
        CheckEof(ref e, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void TrimToSeq(ref TcpEndpoint e, ref TcpEndpointCold k, ulong seq, ConnTracker t)
    {
        if (seq > k.LastReassemSeq)
            Undelivered(ref e, ref k, seq, t);
        if (seq > k.TrimSeq)
        {
            ulong acked = Math.Min(seq, k.LastReassemSeq) - Math.Min(k.TrimSeq, k.LastReassemSeq);
            k.BufferedAcked = acked >= k.BufferedAcked ? 0 : k.BufferedAcked - acked;
            k.TrimSeq = seq;
        }
        if (k.Above is { Count: > 0 } above)
        {
            while (above.Count > 0 && above[0].hi <= seq) above.RemoveAt(0);
            if (above.Count > 0 && above[0].lo < seq) above[0] = (seq, above[0].hi);
        }
    }

    /// <summary>Data up to <paramref name="upToSeq"/> was acked but some was never seen: content gaps.</summary>
    private void Undelivered(ref TcpEndpoint e, ref TcpEndpointCold k, ulong upToSeq, ConnTracker t)
    {
        if (upToSeq <= 2 && IsPartial)
            return; // the faked-up initial sequence of a partial connection; Zeek ignores this
        if (!e.SkipDeliveries)
        {
            while (k.Above is { Count: > 0 } above && above[0].lo < upToSeq)
            {
                var (lo, hi) = above[0];
                above.RemoveAt(0);
                if (lo > k.LastReassemSeq)
                {
                    Gap(ref e, lo - k.LastReassemSeq, t);
                    k.LastReassemSeq = lo;
                }
                if (hi > k.LastReassemSeq)
                {
                    k.BufferedAcked += hi - k.LastReassemSeq;
                    k.LastReassemSeq = hi;
                }
            }
            if (upToSeq > k.LastReassemSeq)
                Gap(ref e, upToSeq - k.LastReassemSeq, t);
        }
        if (upToSeq > k.LastReassemSeq)
            k.LastReassemSeq = upToSeq;
    }

    /// <summary>Whether endpoint <paramref name="e"/> still has data to deliver before it can be considered closed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private readonly bool DataPending(in TcpEndpoint e)
    {
        if (e.SkipDeliveries) return false;
        ulong delivered = e.StartSeq + LastReassemSeqOf(e);
        ulong last = TcpEndpoint.ToFullSeqSpace(e.LastSeq, e.SeqWraps);
        if (last < delivered) return false;
        if (delivered != last - 1 && delivered != last) return true;
        if (e.State != TcpEndpointState.Reset && HasUndeliveredData(second: !e.IsSecond)) return true;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void CheckEof(ref TcpEndpoint e, ConnTracker t)
    {
        if (!e.DidEof && (e.SawFin || e.State is TcpEndpointState.Closed or TcpEndpointState.Reset) && !DataPending(e))
        {
            e.DidEof = true;
            EndpointEof(e.IsOrig, t);
        }
    }

    // ---- the session ----

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void UpdateHistory(TcpFlags flags, ref TcpEndpoint e, ulong relSeq, int len)
    {
        bool syn = (flags & TcpFlags.Syn) != 0, fin = (flags & TcpFlags.Fin) != 0, rst = (flags & TcpFlags.Rst) != 0;
        int bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
        if (bits > 1)
        {
            if (fin && rst) EndpointCheckHistory(e, HistFinRst, 'I');
            else EndpointCheckHistory(e, HistMultiFlag, 'Q');
        }
        else if (bits == 1)
        {
            if (syn)
            {
                char code = (flags & TcpFlags.Ack) != 0 ? 'H' : 'S';
                if (EndpointCheckHistory(e, HistSyn, code) && relSeq != HistLastOf(e, 0)) EndpointAddHistory(e, code);
                SetHistLast(e, 0, relSeq);
            }
            if (fin)
            {
                // A FIN's sequence number is at the end of its data.
                ulong finSeq = relSeq + (ulong)len;
                if (EndpointCheckHistory(e, HistFin, 'F') && finSeq != HistLastOf(e, 1)) EndpointAddHistory(e, 'F');
                SetHistLast(e, 1, finSeq);
            }
            if (rst)
            {
                if (EndpointCheckHistory(e, HistRst, 'R') && relSeq != HistLastOf(e, 2)) EndpointAddHistory(e, 'R');
                SetHistLast(e, 2, relSeq);
            }
        }
        else if (len > 0)
            EndpointCheckHistory(e, HistData, 'D');
        else if ((flags & TcpFlags.Ack) != 0)
            EndpointCheckHistory(e, HistAck, 'A');
    }

    private void SetPartialStatus(TcpFlags flags, bool isOrig)
    {
        bool syn = (flags & TcpFlags.Syn) != 0, ack = (flags & TcpFlags.Ack) != 0;
        if (isOrig)
        {
            if ((FirstPacketSeen & FirstOrig) == 0) IsPartial = !syn || ack;
        }
        else if ((FirstPacketSeen & FirstResp) == 0 && !IsPartial)
            IsPartial = !syn;
    }

    /// <summary>One packet that passed the checksum check (TCPSessionAdapter::Process).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    public void ProcessTcp(in PacketSummary p, bool isOrig, long now, ConnTracker t)
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
            ZeroWindow(ref endpoint);

        if (!Orig.DidClose || !Resp.DidClose)
            LastTime = now;

        if ((flags & TcpFlags.Fin) != 0)
        {
            endpoint.SawFin = true;
            ColdOf(endpoint).FinSeq = relSeq + (ulong)segLen;
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
                           out bool doClose, out bool genEvent, t);

        if ((flags & TcpFlags.Ack) != 0)
            AckReceived(ref peer, relAck, t);

        // PIA first-packet bookkeeping.
        FirstPacketSeen |= endpoint.IsOrig ? FirstOrig : FirstResp;

        ulong relDataSeq = (flags & TcpFlags.Syn) != 0 ? relSeq + 1 : relSeq;
        if (len > 0 && (flags & TcpFlags.Rst) == 0 && !seqUnderflow && p.CapturedPayloadLength >= len)
            DataSent(ref endpoint, relDataSeq, len, t);

        CheckEof(ref endpoint, t);

        if (doClose)
            ConnectionClosed(ref endpoint, ref peer, genEvent, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
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
            DidRetransmit(ref e);
        return deltaLast;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private void UpdateStateMachine(ref TcpEndpoint endpoint, ref TcpEndpoint peer, uint baseSeq, uint ackSeq, int len,
                                    int deltaLast, bool isOrig, TcpFlags flags, long now,
                                    out bool doClose, out bool genEvent, ConnTracker t)
    {
        doClose = false;
        genEvent = false;
        switch (endpoint.State)
        {
            case TcpEndpointState.Inactive:
                UpdateInactiveState(ref endpoint, ref peer, baseSeq, len, isOrig, flags, now, ref doClose, ref genEvent, t);
                break;
            case TcpEndpointState.SynSent:
            case TcpEndpointState.SynAckSent:
                if ((flags & TcpFlags.Fin) != 0)
                {
                    SetState(ref endpoint, TcpEndpointState.Closed, t);
                    doClose = genEvent = true;
                }
                if ((flags & TcpFlags.Rst) != 0)
                {
                    SetState(ref endpoint, TcpEndpointState.Reset, t);
                    IsActive = false; // ConnectionReset
                    doClose = true;
                }
                break;
            case TcpEndpointState.Established:
            case TcpEndpointState.Partial:
                if ((flags & TcpFlags.Syn) != 0 && endpoint.State == TcpEndpointState.Partial &&
                    peer.State == TcpEndpointState.Inactive && (flags & TcpFlags.Ack) == 0)
                    SetState(ref endpoint, TcpEndpointState.SynSent, t); // SYN after partial
                if ((flags & TcpFlags.Fin) != 0 && (flags & TcpFlags.Rst) == 0)
                {
                    SetState(ref endpoint, TcpEndpointState.Closed, t);
                    if (peer.State == TcpEndpointState.Reset && peer.PrevState == TcpEndpointState.Closed)
                        SetState(ref peer, TcpEndpointState.Closed, t); // FIN then RST from the peer: a normal close
                    doClose = genEvent = true;
                }
                if ((flags & TcpFlags.Rst) != 0)
                {
                    SetState(ref endpoint, TcpEndpointState.Reset, t);
                    doClose = true;
                    if (peer.State != TcpEndpointState.Reset || peer.PrevState != TcpEndpointState.Established)
                        IsActive = false; // ConnectionReset
                }
                break;
            case TcpEndpointState.Closed:
                if ((flags & TcpFlags.Rst) != 0 && peer.State != TcpEndpointState.Closed)
                {
                    SetState(ref endpoint, TcpEndpointState.Reset, t);
                    if (!endpoint.DidClose) doClose = true; // RST after FIN
                    // Zeek's ResetTimer is armed only when a script handles connection_reset.
                }
                break;
            case TcpEndpointState.Reset:
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void UpdateInactiveState(ref TcpEndpoint endpoint, ref TcpEndpoint peer, uint baseSeq, int len, bool isOrig,
                                     TcpFlags flags, long now, ref bool doClose, ref bool genEvent, ConnTracker t)
    {
        bool syn = (flags & TcpFlags.Syn) != 0, ack = (flags & TcpFlags.Ack) != 0;
        if (syn)
        {
            if (isOrig)
            {
                SetState(ref endpoint, ack ? TcpEndpointState.SynAckSent : TcpEndpointState.SynSent, t);
                t.ArmAttemptTimer(ref this, now);
            }
            else
            {
                if (!ack && peer.State == TcpEndpointState.SynAckSent && baseSeq == endpoint.StartSeq)
                {
                    // SYN and SYN-ACK seen in reverse order: flip and establish.
                    IsPartial = false;
                    FlipRoles(t.Links);
                    SetState(ref peer, TcpEndpointState.Established, t);
                    FirstPacketSeen |= FirstOrig;
                }

                if (peer.State == TcpEndpointState.SynSent)
                    SetState(ref peer, TcpEndpointState.Established, t);

                SetState(ref endpoint, TcpEndpointState.Established, t);

                if (peer.State != TcpEndpointState.Partial)
                    t.OnEstablished(ref this);
            }
        }

        if ((flags & TcpFlags.Fin) != 0)
        {
            SetState(ref endpoint, TcpEndpointState.Closed, t);
            doClose = genEvent = true;
        }

        if ((flags & TcpFlags.Rst) != 0)
        {
            SetState(ref endpoint, TcpEndpointState.Reset, t);
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
                SetState(ref endpoint, TcpEndpointState.Established, t);
                IsPartial = false;
                FirstPacketSeen |= isOrig ? FirstOrig : FirstResp;
            }
            else
                SetState(ref endpoint, TcpEndpointState.Partial, t);
        }
    }

    /// <summary>An acked hole: history 'G'/'g' and missed_bytes, when Zeek would report it.</summary>
    private void Gap(ref TcpEndpoint e, ulong len, ConnTracker t)
    {
        bool clean = IsClean(e) && IsClean(Side(!e.IsOrig));
        if (clean) ScaledHistoryEntry(e.IsOrig ? 'G' : 'g', ref RareOf(e).GapCount, ref RareOf(e).GapScale);
        if (clean || t.Options.ReportGapsForPartial)
            RarePart.MissedBytes += len;
    }

    private static bool IsClean(in TcpEndpoint e) =>
        e.State == TcpEndpointState.Established ||
        (e.State == TcpEndpointState.Closed && e.PrevState == TcpEndpointState.Established);

    private void EndpointEof(bool isOrig, ConnTracker t)
    {
        if (CloseDeferred)
        {
            ConnectionClosed(ref Side(isOrig), ref Side(!isOrig), DeferredGenEvent, t);
            CloseDeferred = false;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    private void ConnectionClosed(ref TcpEndpoint endpoint, ref TcpEndpoint peer, bool genEvent, ConnTracker t)
    {
        if (DataPending(in endpoint))
        {
            CloseDeferred = true;
            if (!DeferredGenEvent) DeferredGenEvent = genEvent;
            return;
        }
        CloseDeferred = false;

        if (endpoint.DidClose) return;
        endpoint.DidClose = true;

        bool closeComplete = endpoint.State == TcpEndpointState.Reset || peer.DidClose || peer.State == TcpEndpointState.Inactive;
        if (closeComplete)
        {
            if (endpoint.PrevState != TcpEndpointState.Inactive || peer.State != TcpEndpointState.Inactive)
            {
                if (DeferredGenEvent) { genEvent = true; DeferredGenEvent = false; }
                if (genEvent) IsActive = false; // ConnectionFinished
            }
            t.ArmCloseTimer(ref this);
        }
        else if (endpoint.PrevState != TcpEndpointState.Inactive)
            t.ArmExpireTimer(ref this, LastTime);
        // else: Zeek's PartialCloseTimer, armed only when a script handles connection_partial_close.
    }
}

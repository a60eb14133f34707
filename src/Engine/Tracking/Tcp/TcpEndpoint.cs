namespace ConnTrack.Engine.Tracking.Tcp;

/// <summary>
/// One side of a TCP connection, as Zeek's TCP_Endpoint keeps it: state, sequence space (with wraps),
/// the history bookkeeping that is per endpoint, and the part of the reassembler conn.log depends on
/// (which sequence ranges were seen, so acked holes become content gaps and missed_bytes).
/// Sequence numbers handed to the reassembly part are relative: the first data byte is 1.
/// </summary>
/// <remarks>
/// A struct held inline in its <see cref="TcpSession"/> (no object, header or back-references per endpoint):
/// the connection and the peer are reached through the session passed in.
/// </remarks>
internal struct TcpEndpoint
{
    public TcpEndpoint(bool isOrig)
    {
        IsOrig = isOrig;
        LastReassemSeq = 1;
        TrimSeq = 1;
    }

    public bool IsOrig;

    public TcpEndpointState State;
    public TcpEndpointState PrevState;

    public uint StartSeq;
    public uint LastSeq;
    public uint AckSeq;
    public uint SeqWraps;
    public uint AckWraps;

    public ulong HistLastSyn, HistLastFin, HistLastRst;
    /// <summary>A FIN was seen (Zeek's FIN_cnt &gt; 0; its RST count is never read).</summary>
    public bool SawFin;
    public ulong FinSeq;
    public bool DidClose;

    // Logarithmic history letters: the n-th letter appears at 1, 10, 100, ... events.
    public uint ChecksumCount, RetransmitCount, ZeroWindowCount, GapCount;
    public byte ChecksumScale, RetransmitScale, ZeroWindowScale, GapScale;

    // Reassembly bookkeeping (no payload kept): the next relative seq to deliver, the trim point, and the
    // ranges received beyond a hole, sorted and merged.
    public ulong LastReassemSeq;
    public ulong TrimSeq;
    public bool SkipDeliveries;
    public bool DidEof;
    private List<(ulong lo, ulong hi)>? _above;
    private ulong _bufferedAcked; // delivered but not yet acked bytes, for the excessive-data rule

    public readonly bool IsActive => State != TcpEndpointState.Inactive && !DidClose;

    public void SetState(TcpEndpointState newState, TcpSession s)
    {
        if (newState == State) return;
        // Finishing the handshake switches the connection to the TCP inactivity timeout.
        if (!IsHandshake(newState) && IsHandshake(State) && IsHandshake(s.Side(!IsOrig).State))
            s.Tracker.OnHandshakeDone(s);
        PrevState = State;
        State = newState;
    }

    private static bool IsHandshake(TcpEndpointState s) =>
        s is TcpEndpointState.Inactive or TcpEndpointState.SynSent or TcpEndpointState.SynAckSent;

    public static ulong ToFullSeqSpace(uint seq, uint wraps) => ((ulong)wraps << 32) | seq;

    public readonly ulong ToRelativeSeqSpace(uint seq, uint wraps) => ToFullSeqSpace(seq, wraps) - StartSeq;

    public void InitStartSeq(uint seq) => StartSeq = seq;
    public void InitLastSeq(uint seq) => LastSeq = seq;
    public void InitAckSeq(uint seq) => AckSeq = seq;

    public void UpdateLastSeq(uint seq)
    {
        if (seq < LastSeq) SeqWraps++;
        LastSeq = seq;
    }

    public void UpdateAckSeq(uint seq)
    {
        if (seq < AckSeq) AckWraps++;
        AckSeq = seq;
    }

    public readonly bool NoDataAcked()
    {
        ulong ack = ToFullSeqSpace(AckSeq, AckWraps);
        ulong start = StartSeq;
        return ack == start || ack == start + 1;
    }

    /// <summary>Bytes sent, from the sequence space (Zeek's TCP_Endpoint::Size): conn.log's orig_bytes/resp_bytes.</summary>
    public readonly ulong Size(TcpSession s)
    {
        if (PrevState == TcpEndpointState.SynSent && State == TcpEndpointState.Reset &&
            s.Side(!IsOrig).State == TcpEndpointState.Inactive && !NoDataAcked())
            return 0; // a half-open connection discovered and aborted: its sequence numbers mean nothing

        ulong last = ToFullSeqSpace(LastSeq, SeqWraps);
        ulong ack = ToFullSeqSpace(AckSeq, AckWraps);
        ulong size = (last > ack ? last : ack) - StartSeq;
        if (size != 0) size--;                   // the SYN octet
        if (SawFin && size != 0) size--;   // the FIN octet
        return size;
    }

    // ---- history ----

    public readonly bool CheckHistory(uint mask, char code, Connection conn)
    {
        if (!IsOrig)
        {
            mask <<= 16;
            code = char.ToLowerInvariant(code);
        }
        return conn.CheckHistory(mask, code);
    }

    public readonly void AddHistory(char code, Connection conn) => conn.AddHistory(IsOrig ? code : char.ToLowerInvariant(code));

    public void ChecksumError(Connection conn) => conn.ScaledHistoryEntry(IsOrig ? 'C' : 'c', ref ChecksumCount, ref ChecksumScale);
    public void DidRetransmit(Connection conn) => conn.ScaledHistoryEntry(IsOrig ? 'T' : 't', ref RetransmitCount, ref RetransmitScale);
    public void ZeroWindow(Connection conn) => conn.ScaledHistoryEntry(IsOrig ? 'W' : 'w', ref ZeroWindowCount, ref ZeroWindowScale);

    // ---- reassembly bookkeeping ----

    private readonly bool HasUndeliveredData => _above is { Count: > 0 };

    /// <summary>Data at relative <paramref name="seq"/> of <paramref name="len"/> bytes arrived (TCP_Reassembler::DataSent).</summary>
    public void DataSent(ulong seq, int len, TcpSession session)
    {
        if (SkipDeliveries || len <= 0) return;
        ulong ack = ToRelativeSeqSpace(AckSeq, AckWraps);
        ulong upper = seq + (ulong)len;
        if (seq < ack)
        {
            if (upper <= ack) return; // already delivered and acked
            seq = ack;
        }
        NewBlock(seq, upper, session);

        ulong undelivered = _above is { Count: > 0 } ? _above[^1].hi - LastReassemSeq : 0;
        if (NoDataAcked() && TcpSession.MaxAboveHoleWithoutAnyAcks > 0 && undelivered > TcpSession.MaxAboveHoleWithoutAnyAcks)
        {
            ClearBlocks();
            SkipDeliveries = true;
        }
        ulong buffered = _bufferedAcked + (_above is null ? 0 : SumAbove());
        if (session.ExcessiveDataWithoutFurtherAcks > 0 && buffered > session.ExcessiveDataWithoutFurtherAcks)
        {
            ClearBlocks();
            SkipDeliveries = true;
        }
    }

    private readonly ulong SumAbove()
    {
        ulong sum = 0;
        foreach (var (lo, hi) in _above!) sum += hi - lo;
        return sum;
    }

    private void ClearBlocks()
    {
        _above?.Clear();
        _bufferedAcked = 0;
    }

    private void NewBlock(ulong seq, ulong upper, TcpSession session)
    {
        if (upper <= TrimSeq) return;
        if (seq < TrimSeq) seq = TrimSeq;

        if (seq <= LastReassemSeq)
        {
            if (upper > LastReassemSeq)
            {
                _bufferedAcked += upper - LastReassemSeq;
                LastReassemSeq = upper;
                DeliverContiguous();
            }
        }
        else
        {
            InsertAbove(seq, upper);
        }

        // Don't hold on to data nobody acks (tcp_max_initial_window).
        if (NoDataAcked() && TcpSession.MaxInitialWindow > 0 && Size(session) > TcpSession.MaxInitialWindow)
            TrimToSeq(LastReassemSeq, session);
    }

    private void InsertAbove(ulong lo, ulong hi)
    {
        _above ??= new List<(ulong, ulong)>(4);
        int i = 0;
        while (i < _above.Count && _above[i].hi < lo) i++;
        // merge with every overlapping or touching range
        while (i < _above.Count && _above[i].lo <= hi)
        {
            lo = Math.Min(lo, _above[i].lo);
            hi = Math.Max(hi, _above[i].hi);
            _above.RemoveAt(i);
        }
        _above.Insert(i, (lo, hi));
    }

    private void DeliverContiguous()
    {
        if (_above is null) return;
        while (_above.Count > 0 && _above[0].lo <= LastReassemSeq)
        {
            var (lo, hi) = _above[0];
            _above.RemoveAt(0);
            if (hi > LastReassemSeq)
            {
                _bufferedAcked += hi - LastReassemSeq;
                LastReassemSeq = hi;
            }
        }
    }

    /// <summary>The peer acked up to relative <paramref name="seq"/> (TCP_Reassembler::AckReceived).</summary>
    public void AckReceived(ulong seq, TcpSession session)
    {
        if (SawFin && seq >= FinSeq)
            seq = FinSeq - 1;
        if (seq <= TrimSeq) return;
        TrimToSeq(seq, session);
        CheckEof(session);
    }

    private void TrimToSeq(ulong seq, TcpSession session)
    {
        if (seq > LastReassemSeq)
            Undelivered(seq, session);
        if (seq > TrimSeq)
        {
            ulong acked = Math.Min(seq, LastReassemSeq) - Math.Min(TrimSeq, LastReassemSeq);
            _bufferedAcked = acked >= _bufferedAcked ? 0 : _bufferedAcked - acked;
            TrimSeq = seq;
        }
        if (_above is { Count: > 0 })
        {
            while (_above.Count > 0 && _above[0].hi <= seq) _above.RemoveAt(0);
            if (_above.Count > 0 && _above[0].lo < seq) _above[0] = (seq, _above[0].hi);
        }
    }

    /// <summary>Data up to <paramref name="upToSeq"/> was acked but some was never seen: content gaps.</summary>
    private void Undelivered(ulong upToSeq, TcpSession session)
    {
        if (upToSeq <= 2 && session.IsPartial)
            return; // the faked-up initial sequence of a partial connection; Zeek ignores this
        if (!SkipDeliveries)
        {
            while (_above is { Count: > 0 } && _above[0].lo < upToSeq)
            {
                var (lo, hi) = _above[0];
                _above.RemoveAt(0);
                if (lo > LastReassemSeq)
                {
                    session.Gap(ref this, LastReassemSeq, lo - LastReassemSeq);
                    LastReassemSeq = lo;
                }
                if (hi > LastReassemSeq)
                {
                    _bufferedAcked += hi - LastReassemSeq;
                    LastReassemSeq = hi;
                }
            }
            if (upToSeq > LastReassemSeq)
                session.Gap(ref this, LastReassemSeq, upToSeq - LastReassemSeq);
        }
        if (upToSeq > LastReassemSeq)
            LastReassemSeq = upToSeq;
    }

    public void Gap(Connection conn) => conn.ScaledHistoryEntry(IsOrig ? 'G' : 'g', ref GapCount, ref GapScale);

    /// <summary>Whether this endpoint still has data to deliver before it can be considered closed.</summary>
    public readonly bool DataPending(TcpSession session)
    {
        if (SkipDeliveries) return false;
        ulong delivered = StartSeq + LastReassemSeq;
        ulong last = ToFullSeqSpace(LastSeq, SeqWraps);
        if (last < delivered) return false;
        if (delivered != last - 1 && delivered != last) return true;
        if (State != TcpEndpointState.Reset && session.Side(!IsOrig).HasUndeliveredData) return true;
        return false;
    }

    public void CheckEof(TcpSession session)
    {
        if (!DidEof && (SawFin || State is TcpEndpointState.Closed or TcpEndpointState.Reset) && !DataPending(session))
        {
            DidEof = true;
            session.EndpointEof(IsOrig);
        }
    }
}

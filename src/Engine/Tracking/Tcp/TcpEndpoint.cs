using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking.Tcp;

/// <summary>
/// The hot part of one side of a TCP connection, as Zeek's TCP_Endpoint keeps it: state, sequence space (with
/// wraps) and the flags every packet reads. 20 bytes, inline in the connection's slab entry. What only data,
/// FINs, RSTs, gaps or anomalies need (the reassembly bookkeeping, the FIN's sequence, the history sequences and
/// the logarithmic counters) is in <see cref="TcpEndpointCold"/>, created on first use.
/// </summary>
/// <remarks>
/// The wrap counters are 16-bit: exact up to 65,535 wraps of the 32-bit sequence space (256 TB in one direction
/// of one connection).
/// </remarks>
internal struct TcpEndpoint
{
    public uint StartSeq;
    public uint LastSeq;
    public uint AckSeq;
    public ushort SeqWraps;
    public ushort AckWraps;

    public TcpEndpointState State;
    public TcpEndpointState PrevState;
    private byte _bits;

    private const byte OrigBit = 1, SawFinBit = 2, DidCloseBit = 4, DidEofBit = 8, SkipBit = 16, SecondBit = 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly bool Get(byte bit) => (_bits & bit) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Set(byte bit, bool value) => _bits = value ? (byte)(_bits | bit) : (byte)(_bits & ~bit);

    /// <summary>Initialises an endpoint: <paramref name="second"/> says which of the connection's two it is (fixed; roles may flip).</summary>
    public static TcpEndpoint Create(bool isOrig, bool second)
    {
        var e = default(TcpEndpoint);
        e.IsOrig = isOrig;
        e.Set(SecondBit, second);
        return e;
    }

    public bool IsOrig { readonly get => Get(OrigBit); set => Set(OrigBit, value); }
    /// <summary>A FIN was seen (Zeek's FIN_cnt &gt; 0; its RST count is never read).</summary>
    public bool SawFin { readonly get => Get(SawFinBit); set => Set(SawFinBit, value); }
    public bool DidClose { readonly get => Get(DidCloseBit); set => Set(DidCloseBit, value); }
    public bool DidEof { readonly get => Get(DidEofBit); set => Set(DidEofBit, value); }
    public bool SkipDeliveries { readonly get => Get(SkipBit); set => Set(SkipBit, value); }
    /// <summary>Which of the connection's two endpoints this is (its cold part is the one with the same position).</summary>
    public readonly bool IsSecond => Get(SecondBit);

    public readonly bool IsActive => State != TcpEndpointState.Inactive && !DidClose;

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    public readonly bool NoDataAcked()
    {
        ulong ack = ToFullSeqSpace(AckSeq, AckWraps);
        ulong start = StartSeq;
        return ack == start || ack == start + 1;
    }

    /// <summary>Bytes sent, from the sequence space (Zeek's TCP_Endpoint::Size): conn.log's orig_bytes/resp_bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    public readonly ulong Size(TcpEndpointState peerState)
    {
        if (PrevState == TcpEndpointState.SynSent && State == TcpEndpointState.Reset &&
            peerState == TcpEndpointState.Inactive && !NoDataAcked())
            return 0; // a half-open connection discovered and aborted: its sequence numbers mean nothing

        ulong last = ToFullSeqSpace(LastSeq, SeqWraps);
        ulong ack = ToFullSeqSpace(AckSeq, AckWraps);
        ulong size = (last > ack ? last : ack) - StartSeq;
        if (size != 0) size--;             // the SYN octet
        if (SawFin && size != 0) size--;   // the FIN octet
        return size;
    }
}

/// <summary>
/// The cold part of a TCP endpoint, what data and FINs need: the reassembly bookkeeping and the FIN's sequences.
/// In the connection's <see cref="ConnCold"/>, created the first time one of these values leaves its initial value.
/// </summary>
internal struct TcpEndpointCold
{
    public TcpEndpointCold()
    {
        LastReassemSeq = 1;
        TrimSeq = 1;
    }

    /// <summary>The values of an endpoint that has no cold part yet.</summary>
    public const ulong InitialReassemSeq = 1;

    public ulong FinSeq, HistLastFin;

    // Reassembly bookkeeping (no payload kept): the next relative seq to deliver, the trim point, and the
    // ranges received beyond a hole, sorted and merged.
    public ulong LastReassemSeq;
    public ulong TrimSeq;
    public List<(ulong lo, ulong hi)>? Above;
    public ulong BufferedAcked; // delivered but not yet acked bytes, for the excessive-data rule

    public readonly bool HasUndeliveredData => Above is { Count: > 0 };
}

/// <summary>
/// The rarest part of a TCP endpoint: the SYN/RST history sequences (0 until a SYN or RST at another relative
/// sequence) and the logarithmic history counters. In the connection's <see cref="ConnRare"/>.
/// </summary>
internal struct TcpEndpointRare
{
    public ulong HistLastSyn, HistLastRst;

    // Logarithmic history letters: the n-th letter appears at 1, 10, 100, ... events.
    public uint ChecksumCount, RetransmitCount, ZeroWindowCount, GapCount;
    public byte ChecksumScale, RetransmitScale, ZeroWindowScale, GapScale;
}

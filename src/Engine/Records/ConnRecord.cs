using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Records;

/// <summary>
/// One finished connection with exactly the fields and meanings of Zeek's conn.log. Optional fields
/// are null where Zeek leaves them unset ('-').
/// </summary>
public sealed class ConnRecord
{
    /// <summary>Time of the first packet, nanoseconds since the Unix epoch.</summary>
    public long Ts { get; set; }
    /// <summary>Zeek's connection uid ("C" and base62 digits).</summary>
    public string Uid
    {
        // The tracker hands over the uid's random bits; the text is made the first time it is read (a pipeline that
        // filters on other fields never pays for the uids of the records it drops).
        get => _uid ??= Has(Set.UidPending) ? UidGenerator.Render(_uidHi, _uidLo) : "";
        set
        {
            _uid = value;
            _set &= ~Set.UidPending;
        }
    }
    public IPAddr128 OrigH { get; set; }
    public ushort OrigP { get; set; }
    public IPAddr128 RespH { get; set; }
    public ushort RespP { get; set; }
    public TransportProto Proto { get; set; }
    public string? Service { get; set; }
    /// <summary>Duration in nanoseconds; null when Zeek leaves it unset (duration 0).</summary>
    public long? Duration { get => Has(Set.Duration) ? _duration : null; set => _duration = Store(value, Set.Duration); }
    public ulong? OrigBytes { get => Has(Set.OrigBytes) ? _origBytes : null; set => _origBytes = Store(value, Set.OrigBytes); }
    public ulong? RespBytes { get => Has(Set.RespBytes) ? _respBytes : null; set => _respBytes = Store(value, Set.RespBytes); }
    public string? ConnState { get; set; }
    public bool? LocalOrig { get => Has(Set.LocalOrig) ? Has(Set.LocalOrigTrue) : null; set => StoreBool(value, Set.LocalOrig, Set.LocalOrigTrue); }
    public bool? LocalResp { get => Has(Set.LocalResp) ? Has(Set.LocalRespTrue) : null; set => StoreBool(value, Set.LocalResp, Set.LocalRespTrue); }
    public ulong MissedBytes { get; set; }
    public string? History { get; set; }
    public ulong? OrigPkts { get => Has(Set.OrigPkts) ? _origPkts : null; set => _origPkts = Store(value, Set.OrigPkts); }
    public ulong? OrigIpBytes { get => Has(Set.OrigIpBytes) ? _origIpBytes : null; set => _origIpBytes = Store(value, Set.OrigIpBytes); }
    public ulong? RespPkts { get => Has(Set.RespPkts) ? _respPkts : null; set => _respPkts = Store(value, Set.RespPkts); }
    public ulong? RespIpBytes { get => Has(Set.RespIpBytes) ? _respIpBytes : null; set => _respIpBytes = Store(value, Set.RespIpBytes); }
    /// <summary>uids of encapsulating connections; null when not tunnelled.</summary>
    public string[]? TunnelParents { get; set; }
    /// <summary>The IP protocol number of the transport (6, 17, 1, 58, ...).</summary>
    public int IpProto { get; set; }
    /// <summary>Outer/inner VLAN ids of the connection's first packet (Zeek's vlan/inner_vlan and id.ctx.vlan), null when untagged.</summary>
    public ushort? Vlan { get => Has(Set.Vlan) ? _vlan : null; set => _vlan = Store(value, Set.Vlan); }
    public ushort? InnerVlan { get => Has(Set.InnerVlan) ? _innerVlan : null; set => _innerVlan = Store(value, Set.InnerVlan); }
    /// <summary>The originator's and responder's link-layer (MAC) addresses as 48-bit values (mac-logging's orig_l2_addr/resp_l2_addr), null without Ethernet.</summary>
    public ulong? OrigL2Addr { get => Has(Set.OrigL2Addr) ? _origL2Addr : null; set => _origL2Addr = Store(value, Set.OrigL2Addr); }
    public ulong? RespL2Addr { get => Has(Set.RespL2Addr) ? _respL2Addr : null; set => _respL2Addr = Store(value, Set.RespL2Addr); }
    /// <summary>The PPPoE session id of the connection's first packet (pppoe-session-id-logging), null without PPPoE.</summary>
    public ushort? PppoeSessionId { get => Has(Set.PppoeSessionId) ? _pppoeSessionId : null; set => _pppoeSessionId = Store(value, Set.PppoeSessionId); }

    // The optional fields are stored as plain values with a bit each saying whether they are set: a nullable
    // 64-bit field takes 16 bytes, and a record is made per connection (and kept by every ConnInfo in a session).
    private long _duration;
    private ulong _origBytes, _respBytes, _origPkts, _origIpBytes, _respPkts, _respIpBytes, _origL2Addr, _respL2Addr;
    private ushort _vlan, _innerVlan, _pppoeSessionId;
    private Set _set;
    private string? _uid;
    private uint _uidHi;
    private ulong _uidLo;

    /// <summary>Sets the uid from its random bits (<see cref="UidGenerator.NextUidBits"/>); the text is made when read.</summary>
    internal void SetUidBits(uint hi, ulong lo)
    {
        _uid = null;
        _uidHi = hi;
        _uidLo = lo;
        _set |= Set.UidPending;
    }

    [Flags]
    private enum Set : uint
    {
        Duration = 1 << 0,
        OrigBytes = 1 << 1,
        RespBytes = 1 << 2,
        LocalOrig = 1 << 3,
        LocalOrigTrue = 1 << 4,
        LocalResp = 1 << 5,
        LocalRespTrue = 1 << 6,
        OrigPkts = 1 << 7,
        OrigIpBytes = 1 << 8,
        RespPkts = 1 << 9,
        RespIpBytes = 1 << 10,
        Vlan = 1 << 11,
        InnerVlan = 1 << 12,
        OrigL2Addr = 1 << 13,
        RespL2Addr = 1 << 14,
        PppoeSessionId = 1 << 15,
        UidPending = 1 << 16,
    }

    private bool Has(Set bit) => (_set & bit) != 0;

    private T Store<T>(T? value, Set bit) where T : struct
    {
        _set = value.HasValue ? _set | bit : _set & ~bit;
        return value.GetValueOrDefault();
    }

    private void StoreBool(bool? value, Set bit, Set trueBit)
    {
        _set &= ~(bit | trueBit);
        if (value is bool b)
            _set |= b ? bit | trueBit : bit;
    }

    /// <summary>A copy of this record (its own tunnel-parent array).</summary>
    public ConnRecord Clone()
    {
        var copy = (ConnRecord)MemberwiseClone();
        copy.TunnelParents = (string[]?)TunnelParents?.Clone();
        return copy;
    }
}

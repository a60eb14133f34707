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
    public string Uid { get; set; } = "";
    public IPAddr128 OrigH { get; set; }
    public ushort OrigP { get; set; }
    public IPAddr128 RespH { get; set; }
    public ushort RespP { get; set; }
    public TransportProto Proto { get; set; }
    public string? Service { get; set; }
    /// <summary>Duration in nanoseconds; null when Zeek leaves it unset (duration 0).</summary>
    public long? Duration { get; set; }
    public ulong? OrigBytes { get; set; }
    public ulong? RespBytes { get; set; }
    public string? ConnState { get; set; }
    public bool? LocalOrig { get; set; }
    public bool? LocalResp { get; set; }
    public ulong MissedBytes { get; set; }
    public string? History { get; set; }
    public ulong? OrigPkts { get; set; }
    public ulong? OrigIpBytes { get; set; }
    public ulong? RespPkts { get; set; }
    public ulong? RespIpBytes { get; set; }
    /// <summary>uids of encapsulating connections; null when not tunnelled.</summary>
    public string[]? TunnelParents { get; set; }
    /// <summary>The IP protocol number of the transport (6, 17, 1, 58, ...).</summary>
    public int IpProto { get; set; }
    /// <summary>Outer/inner VLAN ids of the connection's first packet (Zeek's vlan/inner_vlan and id.ctx.vlan), null when untagged.</summary>
    public ushort? Vlan { get; set; }
    public ushort? InnerVlan { get; set; }
    /// <summary>The originator's and responder's link-layer (MAC) addresses as 48-bit values (mac-logging's orig_l2_addr/resp_l2_addr), null without Ethernet.</summary>
    public ulong? OrigL2Addr { get; set; }
    public ulong? RespL2Addr { get; set; }
    /// <summary>The PPPoE session id of the connection's first packet (pppoe-session-id-logging), null without PPPoE.</summary>
    public ushort? PppoeSessionId { get; set; }

    /// <summary>A copy of this record (its own tunnel-parent array).</summary>
    public ConnRecord Clone()
    {
        var copy = (ConnRecord)MemberwiseClone();
        copy.TunnelParents = (string[]?)TunnelParents?.Clone();
        return copy;
    }
}

namespace ConnTrack.Engine.Decoding;

/// <summary>The outcome of decoding one frame.</summary>
public enum DecodeStatus
{
    /// <summary>A summary was produced and goes to the tracker.</summary>
    Ok,
    /// <summary>Not an IP packet (ARP, LLDP, 802.11 management...): nothing to track, not an error.</summary>
    NotIp,
    /// <summary>An IP fragment that is held until its datagram is complete.</summary>
    FragmentHeld,
    /// <summary>Malformed, truncated or failed a check; a weird was counted.</summary>
    Dropped,
}

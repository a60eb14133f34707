namespace ConnTrack.Engine.Tracking.Tcp;

/// <summary>Zeek's TCP endpoint states (TCP_ENDPOINT_*), as conn_state reads them.</summary>
public enum TcpEndpointState : byte
{
    Inactive = 0,
    SynSent = 1,
    SynAckSent = 2,
    Partial = 3,
    Established = 4,
    Closed = 5,
    Reset = 6,
}

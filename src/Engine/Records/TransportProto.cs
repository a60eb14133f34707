namespace ConnTrack.Engine.Records;

/// <summary>Zeek's transport_proto enum as conn.log writes it.</summary>
public enum TransportProto : byte
{
    Unknown = 0,
    Tcp = 1,
    Udp = 2,
    Icmp = 3,
}

public static class TransportProtoNames
{
    /// <summary>The word conn.log's proto column holds.</summary>
    public static string ToZeekName(this TransportProto proto) => proto switch
    {
        TransportProto.Tcp => "tcp",
        TransportProto.Udp => "udp",
        TransportProto.Icmp => "icmp",
        _ => "unknown_transport",
    };
}

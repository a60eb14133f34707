using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Config;

/// <summary>A port with its transport, written as Zeek writes it: "80/tcp", "53/udp", "8/icmp".</summary>
public readonly record struct PortSpec(ushort Port, TransportProto Proto)
{
    public override string ToString() => $"{Port}/{Proto.ToZeekName()}";

    public static bool TryParse(string? text, out PortSpec spec)
    {
        spec = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Trim().Split('/');
        if (parts.Length != 2 || !ushort.TryParse(parts[0], out var port)) return false;
        TransportProto? proto = parts[1].ToLowerInvariant() switch
        {
            "tcp" => TransportProto.Tcp,
            "udp" => TransportProto.Udp,
            "icmp" => TransportProto.Icmp,
            _ => null,
        };
        if (proto is null) return false;
        spec = new PortSpec(port, proto.Value);
        return true;
    }

    public static PortSpec Parse(string text) =>
        TryParse(text, out var spec) ? spec : throw new FormatException($"'{text}' is not a port like 80/tcp, 53/udp or 8/icmp");
}

namespace ConnTrack.Bench.Generator;

/// <summary>What to generate. The same options and seed always give the same bytes.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Stop after this many packets (the last connections are left open, as in any capture).</summary>
    public long Packets { get; init; } = 5_000_000;
    /// <summary>Stop once a classic pcap of the output would be this big (streaming runs); 0: no byte limit.</summary>
    public long MaxPcapBytes { get; init; }
    /// <summary>Connections open at once (steady state).</summary>
    public int Concurrency { get; init; } = 50_000;
    public ulong Seed { get; init; } = 42;
    /// <summary>Share of connections over IPv6.</summary>
    public double Ipv6Share { get; init; } = 0.10;
    /// <summary>Mean time between two flights of packets, trace-wide (ns).</summary>
    public double MeanFlightGapNs { get; init; } = 20_000;
    /// <summary>Time of the first packet (ns since the epoch).</summary>
    public long StartTimeNs { get; init; } = 1_767_225_600L * 1_000_000_000; // 2026-01-01T00:00:00Z
}

/// <summary>What a run produced.</summary>
public sealed class GeneratorStats
{
    public long Packets;
    public long PcapBytes = PcapFileSink.GlobalHeaderLength;
    public long Connections;
    public long Ipv6Connections;
    public long MaxOpen;
    public long FirstTimestampNs;
    public long LastTimestampNs;
    public readonly long[] ByKind = new long[Enum.GetValues<SessionKind>().Length];

    public override string ToString()
    {
        var kinds = string.Join(", ", Enum.GetValues<SessionKind>().Select(k => $"{k} {ByKind[(int)k]}"));
        return $"{Packets:N0} packets, {PcapBytes / 1e6:N1} MB pcap, {Connections:N0} connections " +
               $"({Ipv6Connections:N0} IPv6; {kinds}), up to {MaxOpen:N0} open, " +
               $"{(LastTimestampNs - FirstTimestampNs) / 1e9:N1} s of trace time";
    }
}

/// <summary>The kinds of conversation the generator mixes.</summary>
public enum SessionKind
{
    /// <summary>Handshake, one or more request/response rounds, FIN teardown.</summary>
    TcpNormal,
    /// <summary>SYN answered by RST-ACK.</summary>
    TcpRejected,
    /// <summary>SYN (sometimes retransmitted) with no answer.</summary>
    TcpUnanswered,
    /// <summary>Handshake and some data, then a RST from either side.</summary>
    TcpReset,
    /// <summary>DNS-like query and response (some unanswered), or NTP.</summary>
    Udp,
    /// <summary>ICMP echo requests and replies (some unanswered).</summary>
    IcmpEcho,
}

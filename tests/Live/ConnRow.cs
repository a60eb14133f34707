using System.Globalization;
using System.Management.Automation;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Live.Tests;

/// <summary>The conn.log fields these tests check, from an engine record or from a PowerShell ConnInfo object.</summary>
internal sealed record ConnRow(
    string OrigH, int OrigP, string RespH, int RespP, string Proto, string? ConnState, string? History,
    ulong? OrigBytes, ulong? RespBytes, bool? LocalOrig, bool? LocalResp,
    ulong? OrigPkts, ulong? RespPkts, ulong? OrigIpBytes, ulong? RespIpBytes)
{
    public static ConnRow From(ConnRecord r) => new(
        r.OrigH.ToString(), r.OrigP, r.RespH.ToString(), r.RespP, r.Proto.ToZeekName(), r.ConnState, r.History,
        r.OrigBytes, r.RespBytes, r.LocalOrig, r.LocalResp, r.OrigPkts, r.RespPkts, r.OrigIpBytes, r.RespIpBytes);

    /// <summary>Reads the Zeek-named properties of a ConnInfo, whatever .NET types the module gives them.</summary>
    public static ConnRow From(PSObject o) => new(
        Text(o, "orig_h")!, (int)Number(o, "orig_p")!, Text(o, "resp_h")!, (int)Number(o, "resp_p")!,
        Text(o, "proto")!.ToLowerInvariant(), Text(o, "conn_state"), Text(o, "history"),
        Number(o, "orig_bytes"), Number(o, "resp_bytes"), Flag(o, "local_orig"), Flag(o, "local_resp"),
        Number(o, "orig_pkts"), Number(o, "resp_pkts"), Number(o, "orig_ip_bytes"), Number(o, "resp_ip_bytes"));

    private static object? Value(PSObject o, string name)
    {
        var p = o.Properties[name];
        Assert.True(p != null, $"ConnInfo has no property '{name}'");
        var v = p!.Value;
        return v is PSObject pso ? pso.BaseObject : v;
    }

    private static string? Text(PSObject o, string name) => Value(o, name) is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;

    private static ulong? Number(PSObject o, string name) => Value(o, name) switch
    {
        null => null,
        Enum e => Convert.ToUInt64(e, CultureInfo.InvariantCulture),
        var v => Convert.ToUInt64(v, CultureInfo.InvariantCulture),
    };

    private static bool? Flag(PSObject o, string name) => Value(o, name) switch
    {
        null => null,
        bool b => b,
        string s => s is "T" or "True" or "true",
        var v => Convert.ToBoolean(v, CultureInfo.InvariantCulture),
    };
}

/// <summary>The records the loopback traffic of <see cref="Traffic"/> must give, checked field by field.</summary>
internal static class TrafficAssert
{
    public static void Matches(TrafficResult t, IReadOnlyList<ConnRow> rows)
    {
        string all = string.Join(Environment.NewLine, rows);

        // One accepted TCP connection, data both ways, closed by both: SF.
        var tcp = Assert.Single(rows, r => r.Proto == "tcp" && r.RespP == t.TcpServerPort);
        Assert.Equal("127.0.0.1", tcp.OrigH);
        Assert.Equal("127.0.0.1", tcp.RespH);
        Assert.Equal(t.TcpClientPort, tcp.OrigP);
        Assert.Equal("SF", tcp.ConnState);
        Assert.Equal((ulong)t.TcpOrigBytes, tcp.OrigBytes);
        Assert.Equal((ulong)t.TcpRespBytes, tcp.RespBytes);
        Assert.True(tcp.LocalOrig);
        Assert.True(tcp.LocalResp);
        // Zeek adds each history letter once; the order of the middle letters depends on timing.
        Assert.StartsWith("Sh", tcp.History);
        Assert.Equal("ADFSadfh", new string(tcp.History!.Order().ToArray()));

        // Connect to a closed port: SYN answered by RST: REJ.
        var rej = Assert.Single(rows, r => r.Proto == "tcp" && r.RespP == t.ClosedPort);
        Assert.Equal(t.RejectedClientPort, rej.OrigP);
        Assert.Equal("REJ", rej.ConnState);
        Assert.Equal("Sr", rej.History);
        Assert.Equal(0UL, rej.OrigBytes);
        Assert.Equal(0UL, rej.RespBytes);
        Assert.Equal(1UL, rej.OrigPkts);
        Assert.Equal(1UL, rej.RespPkts);
        Assert.Equal(40UL, rej.RespIpBytes); // a bare RST/ACK: IPv4 20 + TCP 20

        // UDP request and response: SF, exact sizes.
        var udp = Assert.Single(rows, r => r.Proto == "udp" && r.RespP == t.UdpServerPort);
        Assert.Equal(t.UdpClientPort, udp.OrigP);
        Assert.Equal("SF", udp.ConnState);
        Assert.Equal("Dd", udp.History);
        Assert.Equal((ulong)t.UdpOrigBytes, udp.OrigBytes);
        Assert.Equal((ulong)t.UdpRespBytes, udp.RespBytes);
        Assert.Equal(1UL, udp.OrigPkts);
        Assert.Equal(1UL, udp.RespPkts);
        Assert.Equal((ulong)(20 + 8 + t.UdpOrigBytes), udp.OrigIpBytes);
        Assert.Equal((ulong)(20 + 8 + t.UdpRespBytes), udp.RespIpBytes);
        Assert.True(udp.LocalOrig);
        Assert.True(udp.LocalResp);

        Assert.True(rows.Count == 3, "expected exactly the three connections, got:" + Environment.NewLine + all);
    }
}

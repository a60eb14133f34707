using System.Net;

namespace ConnTrack.Engine.Config;

/// <summary>
/// Every knob of the engine. The defaults are Zeek 9.1's as a user runs it (plain <c>zeek -r</c>, default
/// scripts, every analyzer loaded): see <see cref="ZeekDefaults"/>. Set them before making a runner: its trackers
/// take the timeouts, networks and port sets as they are when made (the port sets as bitmaps), so changes made
/// afterwards do not reach a trace under way.
/// </summary>
public sealed class ConnTrackOptions
{
    // Timers (init-bare.zeek, and base/protocols/conn/inactivity.zeek for the per-port ones).
    public TimeSpan TcpInactivityTimeout { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan UdpInactivityTimeout { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan IcmpInactivityTimeout { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan UnknownIpInactivityTimeout { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>tcp_SYN_timeout: how long an unanswered SYN-only connection is kept.</summary>
    public TimeSpan TcpSynTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>tcp_session_timer: delay of the expire check once a connection is closed or reset.</summary>
    public TimeSpan TcpSessionTimer { get; set; } = TimeSpan.FromSeconds(6);
    /// <summary>tcp_connection_linger: how long a closed connection lingers after its last activity.</summary>
    public TimeSpan TcpConnectionLinger { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan TcpAttemptDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan TcpCloseDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan TcpResetDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan TcpPartialCloseDelay { get; set; } = TimeSpan.FromSeconds(3);
    /// <summary>Inactivity timeouts by responder port, overriding the per-protocol one (ftp, ssh, telnet, rlogin: 1 h).</summary>
    public Dictionary<PortSpec, TimeSpan> PortInactivityTimeouts { get; set; } = ZeekDefaults.PortInactivityTimeouts();
    /// <summary>
    /// dns_session_timeout: Zeek's DNS analyzer removes a UDP DNS connection after this much silence (it checks
    /// every interval, allowing a second of slack). Applies to connections whose responder port is one the DNS
    /// analyzer is registered on (<see cref="DnsAnalyzerPorts"/>). Zero disables it.
    /// </summary>
    public TimeSpan DnsSessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>UDP ports Zeek's DNS analyzer attaches to by default (empty when the analyzers are not loaded, as with zeek -b).</summary>
    public HashSet<ushort> DnsAnalyzerPorts { get; set; } = [53, 137, 5353, 5355];

    /// <summary>At most this many timers expire per packet (Zeek's max_timer_expires); 0 means no limit.</summary>
    public int MaxTimerExpires { get; set; } = 300;

    /// <summary>Ports that make the endpoint using them the likely responder (Zeek's likely_server_ports).</summary>
    public HashSet<PortSpec> LikelyServerPorts { get; set; } = ZeekDefaults.LikelyServerPorts();

    /// <summary>Networks whose addresses are local (Site::local_nets). Empty: local_orig/local_resp are unset.</summary>
    public List<IPNetwork> LocalNets { get; set; } = ZeekDefaults.LocalNets();

    /// <summary>Skip transport and IP checksum verification (Zeek's ignore_checksums).</summary>
    public bool IgnoreChecksums { get; set; }

    /// <summary>
    /// Read capture files in place through a memory mapping where that is safe, instead of copying them through a
    /// buffer. Off by default: the copy into one reused buffer was never more than a few percent slower, and the
    /// mapping can be much slower. Every page of the file becomes a new page of the process's address space, and
    /// what a page costs depends on how the page cache holds the file (in large folios, read ahead from disk or
    /// written in large writes; or in single pages, as a file written 4 KiB at a time by tcpdump -w) and on how the
    /// virtual machine, if any, maps guest pages: 10% slower for a fresh tcpdump file on one VM, ~1.8x slower on one
    /// that shadows the guest's page tables (bench/README.md, 2026-12-03). Safe means under a read lease (Linux: a
    /// file nobody has open for writing, owned by the reader or read with CAP_LEASE), so another program that wants
    /// to write or truncate the file waits a moment for the mapping to be let go instead of the process dying of
    /// SIGBUS; elsewhere files are read through the buffer either way.
    /// </summary>
    public bool MemoryMapFiles { get; set; }

    /// <summary>A BPF expression applied to every frame before decoding (compiled by libpcap); null: no filter.</summary>
    public string? CaptureFilter { get; set; }

    /// <summary>Key connections by 5-tuple plus outer/inner VLAN id (Zeek's vlan_fivetuple conn key).</summary>
    public bool VlanAwareConnKey { get; set; }

    /// <summary>The most connections tracked at once; a new connection past it is dropped and counted.</summary>
    public int MaxConnections { get; set; } = 10_000_000;

    /// <summary>
    /// Zeek's use_conn_size_analyzer: fill orig_pkts/orig_ip_bytes/resp_pkts/resp_ip_bytes. Off, those columns are
    /// unset, as when Zeek runs with its ConnSize analyzer disabled (e.g. Analyzer::disable_all).
    /// </summary>
    public bool UseConnSizeAnalyzer { get; set; } = true;

    /// <summary>Report content gaps (missed_bytes) for partial connections too (Zeek's report_gaps_for_partial).</summary>
    public bool ReportGapsForPartial { get; set; }

    /// <summary>Stop gap accounting for a side that buffered this much unacked data; 0 disables (tcp_excessive_data_without_further_acks).</summary>
    public long TcpExcessiveDataWithoutFurtherAcks { get; set; } = 10 * 1024 * 1024;

    /// <summary>Seed for uid generation; the same seed and input give the same uids.</summary>
    public ulong UidSeed { get; set; } = 0x5EED_C0DE_2026UL;

    public ConnTrackOptions Clone()
    {
        var copy = (ConnTrackOptions)MemberwiseClone();
        copy.PortInactivityTimeouts = new Dictionary<PortSpec, TimeSpan>(PortInactivityTimeouts);
        copy.LikelyServerPorts = new HashSet<PortSpec>(LikelyServerPorts);
        copy.DnsAnalyzerPorts = new HashSet<ushort>(DnsAnalyzerPorts);
        copy.LocalNets = new List<IPNetwork>(LocalNets);
        return copy;
    }
}

using ConnTrack.Engine.Config;

namespace ConnTrack.Conformance;

/// <summary>Turns a case's Zeek settings into engine options. Settings that only affect analyzers are ignored.</summary>
public static class CaseOptionsMapper
{
    public static ConnTrackOptions ToEngineOptions(ConformanceCase c)
    {
        var o = c.Options;
        var options = new ConnTrackOptions
        {
            IgnoreChecksums = o.IgnoreChecksums,
            CaptureFilter = string.IsNullOrWhiteSpace(o.BpfFilter) ? null : o.BpfFilter,
            VlanAwareConnKey = o.ConnKey is not null && o.ConnKey.StartsWith("vlan-aware", StringComparison.OrdinalIgnoreCase),
        };
        if (o.LikelyServerPortsEffective is { Count: > 0 } ports)
        {
            var set = new HashSet<PortSpec>();
            foreach (var p in ports)
                set.Add(PortSpec.Parse(p));
            options.LikelyServerPorts = set;
        }
        // zeek -b loads only the protocol scripts a test names: without the DNS one there is no DNS analyzer timer.
        if (o.ZeekBareMode && !LoadsProtocolScript(o.ServiceDetection, "dns"))
            options.DnsAnalyzerPorts = [];
        foreach (var setting in o.OtherSettings)
        {
            if (setting.StartsWith("max_timer_expires: set to 0", StringComparison.Ordinal))
                options.MaxTimerExpires = 0;
            // Disabling every analyzer disables ConnSize too (only the requested protocol analyzers come back).
            if (setting.StartsWith("Analyzer::disable_all: set to T", StringComparison.Ordinal))
                options.UseConnSizeAnalyzer = false;
            if (setting.StartsWith("report_gaps_for_partial: set to T", StringComparison.Ordinal))
                options.ReportGapsForPartial = true;
            if (setting.StartsWith("tcp_excessive_data_without_further_acks: set to 0", StringComparison.Ordinal))
                options.TcpExcessiveDataWithoutFurtherAcks = 0;
        }
        // Without base/protocols/conn (bare mode, output printed by the test) the 1 h per-port timeouts don't apply.
        if (c.Notes.Any(n => n.Contains("bare mode without base/protocols/conn", StringComparison.Ordinal)))
            options.PortInactivityTimeouts = [];
        return options;
    }

    /// <summary>Reads "only analyzers of the loaded protocol scripts: dhcp, dns, http; ..." from service_detection.</summary>
    private static bool LoadsProtocolScript(string? serviceDetection, string script)
    {
        const string marker = "loaded protocol scripts:";
        if (serviceDetection is null) return false;
        int i = serviceDetection.IndexOf(marker, StringComparison.Ordinal);
        if (i < 0) return false;
        var list = serviceDetection[(i + marker.Length)..];
        int end = list.IndexOf(';');
        if (end >= 0) list = list[..end];
        return list.Split(',', StringSplitOptions.TrimEntries).Contains(script, StringComparer.Ordinal);
    }
}

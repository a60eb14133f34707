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
        foreach (var setting in o.OtherSettings)
        {
            if (setting.StartsWith("max_timer_expires: set to 0", StringComparison.Ordinal))
                options.MaxTimerExpires = 0;
        }
        // Without base/protocols/conn (bare mode, output printed by the test) the 1 h per-port timeouts don't apply.
        if (c.Notes.Any(n => n.Contains("bare mode without base/protocols/conn", StringComparison.Ordinal)))
            options.PortInactivityTimeouts = [];
        return options;
    }
}

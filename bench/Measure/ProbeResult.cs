using System.Text.Json;

namespace ConnTrack.Bench.Measure;

/// <summary>What one measured run reports (a child process prints it as one JSON line).</summary>
public sealed class ProbeResult
{
    public string Name { get; set; } = "";
    public bool Ok { get; set; }
    /// <summary>Why the run did not happen or failed (tool missing, engine not implemented yet, ...).</summary>
    public string? Error { get; set; }
    public double Seconds { get; set; }
    /// <summary>Time outside the measured work (runspace creation and module import for the cmdlet).</summary>
    public double SetupSeconds { get; set; }
    public long Packets { get; set; }
    public long Records { get; set; }
    public long AllocatedBytes { get; set; }
    /// <summary>Peak resident set (VmHWM), bytes.</summary>
    public long PeakRss { get; set; }
    /// <summary>Largest managed heap seen by sampling, bytes.</summary>
    public long PeakManagedHeap { get; set; }
    public double UserSeconds { get; set; }
    public double SystemSeconds { get; set; }
    public int Gen0 { get; set; }
    public int Gen1 { get; set; }
    public int Gen2 { get; set; }
    public Dictionary<string, string> Notes { get; set; } = new();

    public const string Marker = "##PROBE## ";

    public string ToJsonLine() => Marker + JsonSerializer.Serialize(this);

    public static ProbeResult Failed(string name, string error) => new() { Name = name, Ok = false, Error = error };

    public static ProbeResult? FromOutput(string stdout)
    {
        foreach (var line in stdout.Split('\n'))
        {
            if (line.StartsWith(Marker, StringComparison.Ordinal))
                return JsonSerializer.Deserialize<ProbeResult>(line[Marker.Length..]);
        }
        return null;
    }
}

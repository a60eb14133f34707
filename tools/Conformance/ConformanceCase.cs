using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnTrack.Conformance;

/// <summary>One entry of the corpus's cases.json: a trace, Zeek's conn.log for it, and how to compare.</summary>
public sealed class ConformanceCase
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("category")] public string Category { get; set; } = "";
    [JsonPropertyName("traces")] public List<string> Traces { get; set; } = [];
    [JsonPropertyName("expected")] public string Expected { get; set; } = "";
    [JsonPropertyName("compare_fields")] public List<string> CompareFields { get; set; } = [];
    [JsonPropertyName("match_mode")] public string MatchMode { get; set; } = "5-tuple";
    /// <summary>True: ts is masked in the expected log; null: ts is not part of it; false: ts is compared.</summary>
    [JsonPropertyName("masked_ts")] public bool? MaskedTs { get; set; }
    /// <summary>Column names of a headerless expected log (zeek-cut without -m).</summary>
    [JsonPropertyName("expected_columns")] public List<string>? ExpectedColumns { get; set; }
    [JsonPropertyName("notes")] public List<string> Notes { get; set; } = [];
    [JsonPropertyName("options")] public CaseOptions Options { get; set; } = new();

    public override string ToString() => Name;

    /// <summary>Reads every case of a cases.json file.</summary>
    public static List<ConformanceCase> Load(string casesJsonPath)
    {
        using var stream = File.OpenRead(casesJsonPath);
        return JsonSerializer.Deserialize<List<ConformanceCase>>(stream)
            ?? throw new InvalidDataException($"{casesJsonPath}: not a list of cases");
    }
}

/// <summary>The Zeek settings a case was produced with (only some of them matter to a conn.log without analyzers).</summary>
public sealed class CaseOptions
{
    [JsonPropertyName("ignore_checksums")] public bool IgnoreChecksums { get; set; }
    [JsonPropertyName("bpf_filter")] public string? BpfFilter { get; set; }
    [JsonPropertyName("zeek_bare_mode")] public bool ZeekBareMode { get; set; }
    [JsonPropertyName("service_detection")] public string? ServiceDetection { get; set; }
    [JsonPropertyName("service_compared")] public bool ServiceCompared { get; set; }
    [JsonPropertyName("likely_server_ports_effective")] public List<string>? LikelyServerPortsEffective { get; set; }
    [JsonPropertyName("conn_key")] public string? ConnKey { get; set; }
    [JsonPropertyName("other_settings")] public List<string> OtherSettings { get; set; } = [];
    [JsonPropertyName("removed_columns")] public List<string> RemovedColumns { get; set; } = [];
    [JsonPropertyName("expected_column_renames")] public Dictionary<string, string> ExpectedColumnRenames { get; set; } = [];
    [JsonPropertyName("extra_columns")] public List<string> ExtraColumns { get; set; } = [];
    [JsonPropertyName("input")] public string? Input { get; set; }
}

using System.Text;

namespace ConnTrack.Conformance;

/// <summary>One compared field that differs on a paired row.</summary>
public sealed record FieldMismatch(string Field, string Row, string Expected, string Actual)
{
    public override string ToString() => $"{Row}: {Field} expected '{Expected}' got '{Actual}'";
}

/// <summary>How one case compares with Zeek.</summary>
public sealed class CaseResult
{
    public CaseResult(ConformanceCase c) => Case = c;

    public ConformanceCase Case { get; }
    public string Name => Case.Name;

    /// <summary>The whole case is left out (tunnel decapsulation); not a failure.</summary>
    public string? ExclusionReason { get; set; }
    public bool Excluded => ExclusionReason is not null;

    /// <summary>The engine or the expected log failed (an exception); the case fails.</summary>
    public string? Error { get; set; }

    /// <summary>Things worth knowing that do not decide the result (a truncated trace, a field not in the expected log).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The fields compared (ts only when unmasked; never uid or service).</summary>
    public List<string> ComparedFields { get; } = [];

    /// <summary>Expected rows that count (tunnel rows left out).</summary>
    public int ExpectedRows { get; set; }
    /// <summary>Expected rows paired with one of ours.</summary>
    public int PairedRows { get; set; }
    /// <summary>Paired rows whose compared fields are all equal.</summary>
    public int MatchedRows { get; set; }
    /// <summary>Rows the engine wrote, all told.</summary>
    public int ActualRows { get; set; }

    public List<string> MissingRows { get; } = [];
    public List<string> ExtraRows { get; } = [];
    public List<FieldMismatch> Mismatches { get; } = [];

    /// <summary>Excluded from the verdict: service differences (no protocol analyzers yet).</summary>
    public List<FieldMismatch> ServiceMismatches { get; } = [];
    /// <summary>Excluded from the verdict: expected rows that need tunnel decapsulation.</summary>
    public List<string> ExcludedTunnelRows { get; } = [];
    /// <summary>Excluded from the verdict: our rows that are tunnel outer connections with no counterpart.</summary>
    public List<string> ExcludedActualRows { get; } = [];

    /// <summary>
    /// Whether an extra row of ours fails the case. Off for every mode: the corpus's baselines are often
    /// filtered subsets of Zeek's conn.log (zeek-cut | grep), so extras are reported, not failed.
    /// </summary>
    public bool ExtrasFail { get; set; }

    public bool Passed => !Excluded && Error is null && MissingRows.Count == 0 && Mismatches.Count == 0
        && (!ExtrasFail || ExtraRows.Count == 0);

    /// <summary>A failure that <see cref="KnownDifferences"/> documents and that stays within its extent.</summary>
    public bool IsKnownDifference => !Excluded && !Passed && KnownDifferences.Check(this) is null;

    public string Verdict => Excluded ? "EXCLUDED" : Passed ? "PASS" : IsKnownDifference ? "KNOWN" : "FAIL";

    /// <summary>name, PASS/FAIL, rows matched/expected, fields wrong (and what else there is to know).</summary>
    public string SummaryLine()
    {
        var sb = new StringBuilder();
        sb.Append(Name).Append("  ").Append(Verdict);
        if (Excluded)
        {
            sb.Append("  (").Append(ExclusionReason).Append(')');
            return sb.ToString();
        }
        sb.Append("  rows ").Append(MatchedRows).Append('/').Append(ExpectedRows);
        sb.Append("  fields wrong ").Append(Mismatches.Count);
        if (MissingRows.Count > 0) sb.Append("  missing ").Append(MissingRows.Count);
        if (ExtraRows.Count > 0) sb.Append("  extra ").Append(ExtraRows.Count);
        if (ServiceMismatches.Count > 0) sb.Append("  [service differs on ").Append(ServiceMismatches.Count).Append(" rows, excluded]");
        if (ExcludedTunnelRows.Count > 0) sb.Append("  [").Append(ExcludedTunnelRows.Count).Append(" tunnel rows excluded]");
        if (Error is not null) sb.Append("  error: ").Append(FirstLine(Error));
        return sb.ToString();
    }

    /// <summary>The whole story: per-field mismatches, missing and extra rows, exclusions.</summary>
    public string Details()
    {
        var sb = new StringBuilder();
        sb.AppendLine(SummaryLine());
        sb.Append("  mode ").Append(Case.MatchMode).Append("; compared: ").AppendLine(string.Join(' ', ComparedFields));
        if (Error is not null) sb.Append("  error: ").AppendLine(Error);
        foreach (var n in Notes) sb.Append("  note: ").AppendLine(n);
        foreach (var group in Mismatches.GroupBy(m => m.Field))
        {
            sb.Append("  field ").Append(group.Key).Append(": ").Append(group.Count()).AppendLine(" wrong");
            foreach (var m in group) sb.Append("    ").Append(m.Row).Append(": expected '").Append(m.Expected).Append("' got '").Append(m.Actual).AppendLine("'");
        }
        foreach (var r in MissingRows) sb.Append("  missing: ").AppendLine(r);
        foreach (var r in ExtraRows) sb.Append(ExtrasFail ? "  extra: " : "  extra (not a failure): ").AppendLine(r);
        foreach (var m in ServiceMismatches) sb.Append("  service (excluded): ").AppendLine(m.ToString());
        foreach (var r in ExcludedTunnelRows) sb.Append("  tunnel row (excluded): ").AppendLine(r);
        foreach (var r in ExcludedActualRows) sb.Append("  our tunnel outer row (excluded): ").AppendLine(r);
        return sb.ToString();
    }

    private static string FirstLine(string s)
    {
        var nl = s.IndexOf('\n');
        return nl < 0 ? s : s[..nl].TrimEnd('\r');
    }
}

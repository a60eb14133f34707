using ConnTrack.Engine;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Records;

namespace ConnTrack.Conformance;

/// <summary>
/// Runs the engine over each case of the corpus and compares its records with Zeek's conn.log, in text form
/// (our values formatted as Zeek writes them). The corpus is read in place.
/// </summary>
public sealed class Scorer
{
    /// <summary>UDP ports of the tunnels Zeek decapsulates by default (VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE over UDP).</summary>
    public static readonly IReadOnlySet<string> TunnelUdpPorts = new HashSet<string> { "4789", "6081", "2152", "3544", "5072", "4754" };
    /// <summary>IP protocols that carry tunnels (IP-in-IP, IPv6-in-IP, GRE).</summary>
    public static readonly IReadOnlySet<string> TunnelIpProtos = new HashSet<string> { "4", "41", "47" };
    /// <summary>Services Zeek gives a tunnel's outer connection.</summary>
    public static readonly IReadOnlySet<string> TunnelServices = new HashSet<string> { "vxlan", "geneve", "gtpv1", "teredo", "ayiya" };

    private static readonly string[] FiveTuple = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "ip_proto"];
    private const string NotProduced = "<not produced>";

    private List<ConformanceCase>? _cases;

    public Scorer(string corpusDirectory) => CorpusDirectory = Path.GetFullPath(corpusDirectory);

    public string CorpusDirectory { get; }

    public IReadOnlyList<ConformanceCase> Cases =>
        _cases ??= ConformanceCase.Load(Path.Combine(CorpusDirectory, ConformanceCorpus.CasesFileName));

    public ConformanceCase? FindCase(string name) => Cases.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));

    /// <summary>Scores one case: reads Zeek's log, runs the engine over the traces, compares. Never throws for a bad engine.</summary>
    public CaseResult Run(ConformanceCase c)
    {
        List<ZeekLogRow> expected;
        try
        {
            expected = ReadExpected(CorpusDirectory, c);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return new CaseResult(c) { Error = $"expected log unreadable: {ex.Message}" };
        }

        var actual = new List<ConnRecord>();
        var notes = new List<string>();
        try
        {
            var runner = new ConnTraceRunner(CaseOptionsMapper.ToEngineOptions(c));
            foreach (var trace in c.Traces)
            {
                try
                {
                    foreach (var record in runner.ReadFile(Path.Combine(CorpusDirectory, trace)))
                        actual.Add(record);
                }
                catch (CaptureFormatException ex)
                {
                    notes.Add($"{trace}: {ex.Message} (records up to there kept, as Zeek stops at a bad record)");
                }
            }
            actual.AddRange(runner.Finish());
        }
        catch (Exception ex)
        {
            var failed = Compare(c, expected, actual);
            failed.Error = $"{ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}";
            failed.Notes.AddRange(notes);
            return failed;
        }

        var result = Compare(c, expected, actual);
        result.Notes.InsertRange(0, notes);
        return result;
    }

    /// <summary>Zeek's rows for the case, with its headerless columns and renames applied.</summary>
    public static List<ZeekLogRow> ReadExpected(string corpusDirectory, ConformanceCase c)
    {
        var options = new ZeekLogReaderOptions
        {
            Columns = c.ExpectedColumns,
            Renames = c.Options.ExpectedColumnRenames.Count > 0 ? c.Options.ExpectedColumnRenames : null,
        };
        return ZeekLogReader.ReadAll(Path.Combine(corpusDirectory, c.Expected), options);
    }

    /// <summary>Compares Zeek's rows with ours per the case's match mode and compared fields. Pure: no I/O.</summary>
    public static CaseResult Compare(ConformanceCase c, IReadOnlyList<ZeekLogRow> expected, IReadOnlyList<ConnRecord> actual)
    {
        var result = new CaseResult(c) { ActualRows = actual.Count };
        var header = expected.Count > 0 ? expected[0].Header : null;
        bool InExpected(string f) => header is not null && header.IndexOf(f) >= 0;

        var tsCompared = c.MaskedTs == false;
        var compareService = false;
        foreach (var f in c.CompareFields.Distinct(StringComparer.Ordinal))
        {
            if (f == "uid" || (f == "ts" && !tsCompared)) continue;
            if (header is not null && !InExpected(f))
            {
                result.Notes.Add($"compared field {f} is not in the expected log");
                continue;
            }
            if (f == "service") { compareService = true; continue; }
            // Columns that only protocol analyzers (DPD) fill are part of the service exclusion.
            if (f is "failed_service" or "speculative_service")
            {
                result.Notes.Add($"{f} needs protocol analyzers (service detection): not compared");
                continue;
            }
            result.ComparedFields.Add(f);
        }
        var fields = result.ComparedFields;

        // Tunnels: which expected rows need decapsulation.
        var tunnelCase = string.Equals(c.Category, "tunnels", StringComparison.Ordinal);
        if (tunnelCase && header is not null && !InExpected("tunnel_parents"))
        {
            result.ExclusionReason = "tunnels case whose expected log has no tunnel_parents column: needs tunnel decapsulation";
            return result;
        }
        var parentUids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in expected)
            if (row.GetSet("tunnel_parents") is { } parents)
                parentUids.UnionWith(parents);
        var excluded = new bool[expected.Count];
        for (var i = 0; i < expected.Count; i++)
        {
            var row = expected[i];
            var parents = row.GetSet("tunnel_parents");
            excluded[i] = parents is { Length: > 0 }
                || (row.GetValue("uid") is { } uid && parentUids.Contains(uid))
                || (tunnelCase && LooksLikeTunnelOuter(row["proto"], row["id.orig_p"], row["id.resp_p"], row["ip_proto"], row["service"]));
        }
        result.ExpectedRows = excluded.Count(e => !e);
        if (expected.Count > 0 && result.ExpectedRows == 0)
        {
            result.ExclusionReason = "every expected row needs tunnel decapsulation";
            return result;
        }

        // Our values in text form, once.
        var actualText = new string[actual.Count][];
        for (var j = 0; j < actual.Count; j++)
        {
            actualText[j] = new string[fields.Count];
            for (var k = 0; k < fields.Count; k++)
                actualText[j][k] = ConnFieldText.Format(actual[j], fields[k]) ?? NotProduced;
        }

        // Pairing.
        var mode = c.MatchMode.Trim();
        string[] keyFields;
        var ordered = false;
        if (mode == "5-tuple")
        {
            keyFields = FiveTuple.Where(InExpected).ToArray();
            ordered = keyFields.Length > 0;
        }
        else if (mode == "multiset")
        {
            // Sub-multiset: the corpus's multiset baselines are often filtered (e.g. only the smtp rows of a
            // trace), so an extra row of ours is reported, not failed.
            keyFields = [];
        }
        else if (mode.StartsWith("partial-key(", StringComparison.Ordinal) && mode.EndsWith(')'))
        {
            keyFields = mode["partial-key(".Length..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Where(InExpected).ToArray();
        }
        else
        {
            result.Error = $"unknown match_mode '{c.MatchMode}'";
            return result;
        }

        var pairOf = new int[expected.Count];
        Array.Fill(pairOf, -1);
        var actualUsed = new bool[actual.Count];
        var expectedGroups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < expected.Count; i++)
        {
            var key = string.Join('\t', keyFields.Select(f => expected[i][f] ?? ""));
            if (!expectedGroups.TryGetValue(key, out var list)) expectedGroups[key] = list = [];
            list.Add(i);
        }
        var actualGroups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var actualOrder = Enumerable.Range(0, actual.Count).OrderBy(j => actual[j].Ts).ToList(); // stable: ts order, then output order
        foreach (var j in actualOrder)
        {
            var key = string.Join('\t', keyFields.Select(f => ConnFieldText.Format(actual[j], f) ?? NotProduced));
            if (!actualGroups.TryGetValue(key, out var list)) actualGroups[key] = list = [];
            list.Add(j);
        }

        foreach (var (key, eRows) in expectedGroups)
        {
            if (!actualGroups.TryGetValue(key, out var aRows)) continue;
            if (ordered)
            {
                var eOrder = tsCompared && InExpected("ts")
                    ? eRows.OrderBy(i => ZeekConnRowMapper.TryParseSecondsToNanos(expected[i]["ts"], out var ns) ? ns : long.MaxValue).ToList()
                    : eRows;
                for (var n = 0; n < eOrder.Count && n < aRows.Count; n++)
                {
                    pairOf[eOrder[n]] = aRows[n];
                    actualUsed[aRows[n]] = true;
                }
                continue;
            }
            // Exact agreement first, then the best agreement among what is left.
            foreach (var i in eRows)
            {
                foreach (var j in aRows)
                {
                    if (actualUsed[j] || Agreement(expected[i], fields, actualText[j]) != fields.Count) continue;
                    pairOf[i] = j;
                    actualUsed[j] = true;
                    break;
                }
            }
            foreach (var i in eRows)
            {
                if (pairOf[i] >= 0) continue;
                var best = -1;
                var bestScore = -1;
                foreach (var j in aRows)
                {
                    if (actualUsed[j]) continue;
                    var score = Agreement(expected[i], fields, actualText[j]);
                    if (score > bestScore) { best = j; bestScore = score; }
                }
                if (best < 0) continue;
                pairOf[i] = best;
                actualUsed[best] = true;
            }
        }

        // Verdicts.
        for (var i = 0; i < expected.Count; i++)
        {
            var row = expected[i];
            var label = RowLabel(row, keyFields);
            if (excluded[i])
            {
                result.ExcludedTunnelRows.Add(label);
                continue;
            }
            var j = pairOf[i];
            if (j < 0)
            {
                result.MissingRows.Add($"{label}: {string.Join(' ', fields.Select(f => row[f] ?? ZeekLogReader.DefaultUnsetField))}");
                continue;
            }
            result.PairedRows++;
            var wrong = 0;
            for (var k = 0; k < fields.Count; k++)
            {
                var want = row[fields[k]] ?? ZeekLogReader.DefaultUnsetField;
                var got = actualText[j][k];
                if (FieldEquals(fields[k], want, got)) continue;
                wrong++;
                result.Mismatches.Add(new FieldMismatch(fields[k], label, want, got));
            }
            if (wrong == 0) result.MatchedRows++;
            if (compareService)
            {
                var want = row["service"] ?? ZeekLogReader.DefaultUnsetField;
                var got = ConnFieldText.Format(actual[j], "service")!;
                if (!FieldEquals("service", want, got))
                    result.ServiceMismatches.Add(new FieldMismatch("service", label, want, got));
            }
        }
        foreach (var j in actualOrder)
        {
            if (actualUsed[j]) continue;
            var r = actual[j];
            var text = $"{ConnFieldText.Format(r, "id.orig_h")} {r.OrigP} {ConnFieldText.Format(r, "id.resp_h")} {r.RespP} {ConnFieldText.Format(r, "proto")}: "
                + string.Join(' ', actualText[j]);
            var outer = TunnelIpProtos.Contains(ConnFieldText.Format(r, "ip_proto")!)
                || (tunnelCase && LooksLikeTunnelOuter(ConnFieldText.Format(r, "proto"), ConnFieldText.Format(r, "id.orig_p"),
                    ConnFieldText.Format(r, "id.resp_p"), ConnFieldText.Format(r, "ip_proto"), null));
            (outer ? result.ExcludedActualRows : result.ExtraRows).Add(text);
        }
        return result;
    }

    /// <summary>
    /// A tunnel's outer connection, by what the row shows: a tunnel service, a tunnel IP protocol, or a tunnel
    /// UDP port on a row with no other service (a service such as dns on port 2152 means Zeek saw no tunnel there).
    /// </summary>
    public static bool LooksLikeTunnelOuter(string? proto, string? origPort, string? respPort, string? ipProto, string? service)
    {
        if (service is not null && service.Split(',').Any(TunnelServices.Contains)) return true;
        if (ipProto is not null && TunnelIpProtos.Contains(ipProto)) return true;
        var tunnelPort = respPort is not null && TunnelUdpPorts.Contains(respPort) || origPort is not null && TunnelUdpPorts.Contains(origPort);
        return tunnelPort && proto is null or "udp" && service is null or ZeekLogReader.DefaultUnsetField;
    }

    /// <summary>Set fields compare as sets (Zeek writes set elements in hash order); everything else as text.</summary>
    public static bool FieldEquals(string field, string expected, string actual)
    {
        if (string.Equals(expected, actual, StringComparison.Ordinal)) return true;
        if (field is "tunnel_parents" or "service" or "failed_service")
        {
            var a = expected.Split(',');
            var b = actual.Split(',');
            Array.Sort(a, StringComparer.Ordinal);
            Array.Sort(b, StringComparer.Ordinal);
            return a.AsSpan().SequenceEqual(b);
        }
        return false;
    }

    /// <summary>"conformance: N passed, M failed, K excluded".</summary>
    public static string TotalLine(IEnumerable<CaseResult> results)
    {
        int passed = 0, failed = 0, known = 0, excludedCount = 0;
        foreach (var r in results)
        {
            if (r.Excluded) excludedCount++;
            else if (r.Passed) passed++;
            else if (r.IsKnownDifference) known++;
            else failed++;
        }
        return $"conformance: {passed} passed, {known} known differences, {failed} failed, {excludedCount} excluded";
    }

    private static int Agreement(ZeekLogRow row, List<string> fields, string[] actualText)
    {
        var n = 0;
        for (var k = 0; k < fields.Count; k++)
            if (FieldEquals(fields[k], row[fields[k]] ?? ZeekLogReader.DefaultUnsetField, actualText[k])) n++;
        return n;
    }

    private static string RowLabel(ZeekLogRow row, string[] keyFields)
    {
        var id = FiveTuple.Where(row.Has).Select(f => row[f]).ToList();
        if (id.Count == 0) id = keyFields.Select(f => row[f]).ToList();
        return id.Count == 0 ? $"line {row.LineNumber}" : $"line {row.LineNumber} [{string.Join(' ', id)}]";
    }
}

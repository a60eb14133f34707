namespace ConnTrack.Conformance;

/// <summary>
/// conntrack-conformance [--corpus DIR] [--case NAME]... [--verbose]
/// Prints one line per case and a total line. Always exits 0 when it could score (it is a scorer; the
/// xunit suite decides pass/fail); 2 for bad arguments or a missing corpus.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string? corpus = null;
        var names = new List<string>();
        var verbose = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--corpus" when i + 1 < args.Length: corpus = args[++i]; break;
                case "--case" when i + 1 < args.Length: names.Add(args[++i]); break;
                case "--verbose" or "-v": verbose = true; break;
                case "--help" or "-h" or "-?":
                    Console.WriteLine("usage: ConnTrack.Conformance [--corpus DIR] [--case NAME]... [--verbose]");
                    Console.WriteLine($"  the corpus defaults to ${ConformanceCorpus.EnvironmentVariable}, else X/shared/conformance above this program");
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
                    return 2;
            }
        }

        corpus ??= ConformanceCorpus.Locate() ?? ConformanceCorpus.Locate(Environment.CurrentDirectory);
        if (corpus is null || !File.Exists(Path.Combine(corpus, ConformanceCorpus.CasesFileName)))
        {
            Console.Error.WriteLine($"conformance corpus not found (set ${ConformanceCorpus.EnvironmentVariable} or pass --corpus)");
            return 2;
        }

        var scorer = new Scorer(corpus);
        var cases = scorer.Cases.ToList();
        if (names.Count > 0)
        {
            var unknown = names.Where(n => scorer.FindCase(n) is null).ToList();
            if (unknown.Count > 0)
            {
                Console.Error.WriteLine($"no such case: {string.Join(", ", unknown)}");
                return 2;
            }
            cases = cases.Where(c => names.Contains(c.Name)).ToList();
        }

        var results = new List<CaseResult>();
        foreach (var c in cases)
        {
            var result = scorer.Run(c);
            results.Add(result);
            // --verbose: the row diffs (missing, extra, wrong fields, exclusions) under the line.
            Console.Write(verbose ? result.Details() : result.SummaryLine() + Environment.NewLine);
        }
        Console.WriteLine(Scorer.TotalLine(results));
        return 0;
    }
}

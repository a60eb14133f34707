namespace ConnTrack.Engine.Config;

/// <summary>
/// A configuration file that cannot be used. The message names the file, the line, the column and the key,
/// e.g. "conntrack.yaml:7:3: key 'tcp_inactivity_timeout': '5 minutes' is not a duration (use e.g. '5 min' or 300)".
/// </summary>
public sealed class ConnTrackConfigException : Exception
{
    public ConnTrackConfigException(string filePath, int line, int column, string? key, string problem, Exception? inner = null)
        : base(Compose(filePath, line, column, key, problem), inner)
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        Key = key;
        Problem = problem;
    }

    /// <summary>The file (or source name) the configuration came from.</summary>
    public string FilePath { get; }
    /// <summary>1-based line of the problem.</summary>
    public int Line { get; }
    /// <summary>1-based column of the problem.</summary>
    public int Column { get; }
    /// <summary>The top-level key concerned, or null when the problem is not about one key (malformed YAML).</summary>
    public string? Key { get; }
    /// <summary>The problem alone, without the location prefix.</summary>
    public string Problem { get; }

    private static string Compose(string filePath, int line, int column, string? key, string problem) =>
        key is null
            ? $"{filePath}:{line}:{column}: {problem}"
            : $"{filePath}:{line}:{column}: key '{key}': {problem}";
}

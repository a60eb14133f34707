namespace ConnTrack.Conformance;

/// <summary>Finds the conformance corpus (the folder holding cases.json, traces/ and expected/).</summary>
public static class ConformanceCorpus
{
    public const string EnvironmentVariable = "CONNTRACK_CONFORMANCE";
    public const string CasesFileName = "cases.json";

    /// <summary>
    /// The corpus folder: $CONNTRACK_CONFORMANCE (the folder, or its cases.json) when set, else the first
    /// X/shared/conformance with a cases.json found walking up from <paramref name="startDirectory"/>
    /// (default: the app's base directory). Null when there is none.
    /// </summary>
    public static string? Locate(string? startDirectory = null)
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (File.Exists(env) && Path.GetFileName(env) == CasesFileName) return Path.GetDirectoryName(Path.GetFullPath(env));
            return File.Exists(Path.Combine(env, CasesFileName)) ? Path.GetFullPath(env) : null;
        }
        for (var dir = new DirectoryInfo(startDirectory ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "conformance");
            if (File.Exists(Path.Combine(candidate, CasesFileName))) return candidate;
        }
        return null;
    }
}

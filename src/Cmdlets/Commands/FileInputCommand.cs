using System.Management.Automation;
using ConnTrack.Infrastructure;

namespace ConnTrack.Commands;

/// <summary>
/// The -Path (wildcards) / -LiteralPath (alias PSPath: binds Get-ChildItem output) pair that the file-reading
/// cmdlets share, with one backing field as PowerShell's own Get-FileHash does.
/// </summary>
public abstract class FileInputCommand : PSCmdlet
{
    public const string PathSet = "Path";
    public const string LiteralPathSet = "LiteralPath";

    private string[] _paths = [];
    private bool _literal;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path
    {
        get => _paths;
        set { _paths = value; _literal = false; }
    }

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath
    {
        get => _paths;
        set { _paths = value; _literal = true; }
    }

    /// <summary>The existing FileSystem files the parameters name; an error with <paramref name="notFoundId"/> for each that is missing.</summary>
    protected IEnumerable<string> ResolveInputFiles(string notFoundId) =>
        PathResolver.ResolveExisting(this, _paths, _literal, notFoundId);
}

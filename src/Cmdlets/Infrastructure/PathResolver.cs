using System.Management.Automation;
using Microsoft.PowerShell.Commands;

namespace ConnTrack.Infrastructure;

/// <summary>
/// Turns -Path (wildcards) and -LiteralPath values into file-system paths. Every path that cannot be used is
/// one non-terminating error naming it; the good ones come back in order.
/// </summary>
internal static class PathResolver
{
    public static List<string> ResolveExisting(PSCmdlet cmdlet, string[] paths, bool literal, string notFoundId)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            try
            {
                if (literal)
                {
                    var resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
                    if (!IsFileSystem(cmdlet, provider, path)) continue;
                    if (!File.Exists(resolved))
                    {
                        cmdlet.WriteError(NotFound(resolved, notFoundId));
                        continue;
                    }
                    result.Add(resolved);
                }
                else
                {
                    var resolved = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
                    if (!IsFileSystem(cmdlet, provider, path)) continue;
                    foreach (var file in resolved)
                    {
                        if (Directory.Exists(file)) continue;
                        result.Add(file);
                    }
                }
            }
            catch (ItemNotFoundException)
            {
                // A wildcard that matches nothing is not an error (as with Get-ChildItem); a plain name is.
                if (!WildcardPattern.ContainsWildcardCharacters(path))
                    cmdlet.WriteError(NotFound(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path), notFoundId));
            }
            catch (System.Management.Automation.DriveNotFoundException e)
            {
                cmdlet.WriteError(new ErrorRecord(e, notFoundId, ErrorCategory.ObjectNotFound, path));
            }
        }
        return result;
    }

    /// <summary>One path to write or read that need not exist yet (-Path of New-/Export- commands, -ConfigPath).</summary>
    public static string ResolveOne(PSCmdlet cmdlet, string path) =>
        cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    public static ErrorRecord NotFound(string path, string errorId) =>
        new(new FileNotFoundException($"Cannot find the file '{path}' because it does not exist.", path),
            errorId, ErrorCategory.ObjectNotFound, path);

    private static bool IsFileSystem(PSCmdlet cmdlet, ProviderInfo provider, string path)
    {
        if (provider.ImplementingType == typeof(FileSystemProvider)) return true;
        cmdlet.WriteError(new ErrorRecord(
            new ArgumentException($"'{path}' is not a file-system path (provider {provider.Name}); give a file path."),
            ErrorIds.PathNotFileSystem, ErrorCategory.InvalidArgument, path));
        return false;
    }
}

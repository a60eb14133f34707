using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ConnTrack.Module.Tests;

/// <summary>
/// An in-process PowerShell with the built module imported through its manifest (out/ConnTrack/ConnTrack.psd1),
/// as a user's Import-Module does. The hosted engine (the System.Management.Automation package) has only the
/// core cmdlets; the few Utility cmdlets the tests need that it lacks are added as the stand-ins in
/// <see cref="StandIns"/>, each doing what the real one does for the parameters used.
/// </summary>
public sealed class ModuleSession : IDisposable
{
    public static readonly string RepoRoot = FindRepoRoot();
    public static readonly string ModuleManifest = Path.Combine(RepoRoot, "out", "ConnTrack", "ConnTrack.psd1");
    public static readonly string SamplePcap = Path.Combine(RepoRoot, "samples", "loopback.pcap");

    private readonly Runspace _runspace;

    public ModuleSession()
    {
        Assert.True(File.Exists(ModuleManifest), $"build the module first: {ModuleManifest} is missing");
        var iss = InitialSessionState.CreateDefault2();
        StandIns.AddMissing(iss);
        iss.ImportPSModule([ModuleManifest]);
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        TempDir = Directory.CreateTempSubdirectory("conntrack-module-").FullName;
        _runspace.SessionStateProxy.Path.SetLocation(TempDir);
        _runspace.SessionStateProxy.SetVariable("Sample", SamplePcap);
        _runspace.SessionStateProxy.SetVariable("TempDir", TempDir);
    }

    public string TempDir { get; }
    public Runspace Runspace => _runspace;

    /// <summary>Runs a script; non-terminating errors land in <paramref name="errors"/>; terminating ones throw.</summary>
    public Collection<PSObject> Run(string script, out List<ErrorRecord> errors)
    {
        using var ps = PowerShell.Create(_runspace);
        ps.AddScript(script);
        var output = ps.Invoke();
        errors = ps.Streams.Error.ToList();
        return output;
    }

    public Collection<PSObject> Run(string script)
    {
        var output = Run(script, out var errors);
        Assert.True(errors.Count == 0, "unexpected errors: " + string.Join("; ", errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return output;
    }

    /// <summary>
    /// Runs a script expected to end with a terminating error (one a cmdlet throws with ThrowTerminatingError:
    /// try/catch catches those, not the non-terminating ones); returns it.
    /// </summary>
    public ErrorRecord RunTerminating(string script)
    {
        var output = Run("try { " + script + " } catch { [pscustomobject]@{ Caught = $_ } }", out _);
        var caught = output.Select(o => o.Properties["Caught"]?.Value).OfType<PSObject>().Select(p => p.BaseObject)
            .Concat(output.Select(o => o.Properties["Caught"]?.Value)).OfType<ErrorRecord>().FirstOrDefault();
        Assert.True(caught is not null, "expected a terminating error, got none");
        return caught!;
    }

    public void Dispose()
    {
        _runspace.Dispose();
        try { Directory.Delete(TempDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConnTrack.sln"))) return dir.FullName;
        throw new InvalidOperationException("ConnTrack.sln not found above " + AppContext.BaseDirectory);
    }
}

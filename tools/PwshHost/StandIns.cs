using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace ConnTrack.PwshHost;

/// <summary>
/// Stand-ins for Microsoft.PowerShell.Utility cmdlets, which the System.Management.Automation package does not
/// ship (pwsh does). Used by the launcher and by the module tests (linked into them). Added only when the real command is missing. Select-Object -First stops upstream commands
/// exactly as the real one does: by throwing PowerShell's own StopUpstreamCommandsException (internal, so made
/// by reflection), which ends the producers and runs their cleanup (file handles closed).
/// </summary>
public static class StandIns
{
    public static void AddMissing(InitialSessionState iss)
    {
        if (!iss.Commands.Any(c => c.Name == "Select-Object"))
            iss.Commands.Add(new SessionStateCmdletEntry("Select-Object", typeof(SelectObjectStandInCommand), null));
        if (!iss.Commands.Any(c => c.Name == "Sort-Object"))
            iss.Commands.Add(new SessionStateCmdletEntry("Sort-Object", typeof(SortObjectStandInCommand), null));
    }
}

/// <summary>Select-Object -First N [-ExpandProperty name] (the subset the tests use).</summary>
[Cmdlet(VerbsCommon.Select, "Object")]
public sealed class SelectObjectStandInCommand : PSCmdlet
{
    private static readonly Type StopUpstream = typeof(PipelineStoppedException).Assembly
        .GetType("System.Management.Automation.StopUpstreamCommandsException", throwOnError: true)!;

    private int _seen;

    [Parameter(ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    [Parameter(Mandatory = true)]
    public int First { get; set; }

    [Parameter]
    public string? ExpandProperty { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        if (_seen < First)
        {
            _seen++;
            WriteObject(ExpandProperty is null ? InputObject : InputObject.Properties[ExpandProperty]?.Value);
        }
        if (_seen >= First)
            throw (Exception)Activator.CreateInstance(StopUpstream, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, null, [this], null)!;
    }
}

/// <summary>Sort-Object [-Property] name [-Descending]: PowerShell's own comparison (LanguagePrimitives.Compare).</summary>
[Cmdlet("Sort", "Object")]
public sealed class SortObjectStandInCommand : PSCmdlet
{
    private readonly List<PSObject> _items = [];

    [Parameter(ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    [Parameter(Position = 0, Mandatory = true)]
    public string Property { get; set; } = "";

    [Parameter]
    public SwitchParameter Descending { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _items.Add(InputObject);
    }

    protected override void EndProcessing()
    {
        var sorted = _items.Select((o, i) => (o, i)).ToList();
        sorted.Sort((a, b) =>
        {
            var c = LanguagePrimitives.Compare(a.o.Properties[Property]?.Value, b.o.Properties[Property]?.Value, ignoreCase: true);
            if (Descending) c = -c;
            return c != 0 ? c : a.i.CompareTo(b.i);
        });
        foreach (var (o, _) in sorted) WriteObject(o);
    }
}

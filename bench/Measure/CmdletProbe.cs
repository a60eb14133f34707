using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// Read-ConnTrace through the in-process PowerShell engine (System.Management.Automation), its output piped
/// to a counting cmdlet so that formatting does not dominate. The runspace and the module import are timed
/// apart from the pipeline.
/// </summary>
public static class CmdletProbe
{
    public static ProbeResult Run(string path, string module)
    {
        var result = new ProbeResult { Name = "Read-ConnTrace" };
        var setup = Stopwatch.StartNew();
        var iss = InitialSessionState.CreateDefault2(); // ExecutionPolicy left unset on purpose
        iss.Commands.Add(new SessionStateCmdletEntry("Measure-BenchCount", typeof(MeasureBenchCountCommand), null));
        iss.ImportPSModule([module]);
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using (var check = PowerShell.Create(runspace))
        {
            check.AddCommand("Get-Command").AddParameter("Name", "Read-ConnTrace").AddParameter("ErrorAction", "SilentlyContinue");
            if (check.Invoke().Count == 0)
                return ProbeResult.Failed(result.Name, $"Read-ConnTrace is not exported by {module} yet");
        }
        setup.Stop();

        using var ps = PowerShell.Create(runspace);
        ps.AddCommand("Read-ConnTrace").AddArgument(path).AddCommand("Measure-BenchCount");
        GC.Collect();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var sampler = new ProcessStats.HeapSampler();
        var sw = Stopwatch.StartNew();
        Collection<PSObject> output;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            sampler.Dispose();
            return ProbeResult.Failed(result.Name, e.Message);
        }
        sw.Stop();
        sampler.Dispose();
        if (ps.HadErrors && ps.Streams.Error.Count > 0)
        {
            var first = ps.Streams.Error[0];
            if (first.Exception is NotImplementedException || first.ToString().Contains("NotImplemented", StringComparison.Ordinal))
                return ProbeResult.Failed(result.Name, "engine not implemented on this branch yet: " + first);
            result.Notes["errors"] = $"{ps.Streams.Error.Count}; first: {first}";
        }

        result.Ok = true;
        result.SetupSeconds = setup.Elapsed.TotalSeconds;
        result.Seconds = sw.Elapsed.TotalSeconds;
        result.Records = output.Count == 1 && output[0].BaseObject is long n ? n : -1;
        result.AllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        result.PeakManagedHeap = sampler.Peak;
        result.PeakRss = ProcessStats.PeakRss();
        result.Notes["module"] = module;
        return result;
    }
}

/// <summary>Counts its pipeline input and writes the count at the end (a minimal Measure-Object).</summary>
[Cmdlet(VerbsDiagnostic.Measure, "BenchCount")]
[OutputType(typeof(long))]
public sealed class MeasureBenchCountCommand : PSCmdlet
{
    private long _count;

    [Parameter(ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    protected override void ProcessRecord() => _count++;

    protected override void EndProcessing() => WriteObject(_count);
}

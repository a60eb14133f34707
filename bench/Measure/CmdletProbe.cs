using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Reflection;
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
    /// <param name="command">The command to time; only a self-test of the hosting passes another (Get-Command).</param>
    /// <param name="threadCount">Read-ConnTrace's -ThreadCount; null leaves it to its default (0: automatic).</param>
    /// <param name="name">The row name (default: the command).</param>
    public static ProbeResult Run(string path, string module, string command = "Read-ConnTrace", int? threadCount = null, string? name = null)
    {
        var result = new ProbeResult { Name = name ?? command };
        var setup = Stopwatch.StartNew();
        var iss = InitialSessionState.CreateDefault2(); // ExecutionPolicy left unset on purpose
        iss.Commands.Add(new SessionStateCmdletEntry("Measure-BenchCount", typeof(MeasureBenchCountCommand), null));
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using (var import = PowerShell.Create(runspace))
        {
            import.AddCommand("Import-Module").AddParameter("Name", module);
            try
            {
                import.Invoke();
            }
            catch (RuntimeException e)
            {
                return ProbeResult.Failed(result.Name, $"Import-Module {module} failed: {e.Message}");
            }
            if (import.HadErrors && import.Streams.Error.Count > 0)
                return ProbeResult.Failed(result.Name, $"Import-Module {module} failed: {import.Streams.Error[0]}");
        }
        using (var check = PowerShell.Create(runspace))
        {
            check.AddCommand("Get-Command").AddParameter("Name", command).AddParameter("ErrorAction", "SilentlyContinue");
            if (check.Invoke().Count == 0)
                return ProbeResult.Failed(result.Name, $"{command} is not exported by {module} yet");
        }
        setup.Stop();

        using var ps = PowerShell.Create(runspace);
        if (command == "Read-ConnTrace")
        {
            // A wildcard path (the rotated files) goes to -Path, which expands it; a file name goes to -LiteralPath.
            ps.AddCommand(command).AddParameter(path.Contains('*') ? "Path" : "LiteralPath", path);
            if (threadCount is int threads)
                ps.AddParameter("ThreadCount", threads);
        }
        else
        {
            ps.AddCommand(command).AddArgument(path);
        }
        ps.AddCommand("Measure-BenchCount");
        GC.Collect();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        using var self = Process.GetCurrentProcess();
        var user0 = self.UserProcessorTime;
        var sys0 = self.PrivilegedProcessorTime;
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

        self.Refresh();
        result.UserSeconds = (self.UserProcessorTime - user0).TotalSeconds;
        result.SystemSeconds = (self.PrivilegedProcessorTime - sys0).TotalSeconds;
        result.Ok = true;
        result.SetupSeconds = setup.Elapsed.TotalSeconds;
        result.Seconds = sw.Elapsed.TotalSeconds;
        result.Records = output.Count == 1 && output[0].BaseObject is long n ? n : -1;
        result.AllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        result.PeakManagedHeap = sampler.Peak;
        result.PeakRss = ProcessStats.PeakRss();
        result.Notes["module"] = module;
        // The module's assembly as loaded: a Debug build would time unoptimised cmdlet code.
        var cmdlets = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "ConnTrack");
        if (cmdlets is not null)
            result.Notes["moduleBuild"] = cmdlets.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true ? "Debug" : "Release";
        result.Notes["threadCount"] = threadCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default";
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

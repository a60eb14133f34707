using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;

namespace ConnTrack.PwshHost;

/// <summary>
/// Runs a PowerShell command with the ConnTrack module imported, in the real PowerShell engine hosted
/// in-process. ConnInfo records print as a zeek-cut-like table (tab-separated, '-' for unset); other objects
/// print one per line with their properties; errors print with their FullyQualifiedErrorId.
/// Usage: PwshHost -Command "Read-ConnTrace ./samples/loopback.pcap" [-Module path/to/ConnTrack.psd1]
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string? command = null;
        string? module = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (Is(args[i], "-Command", "-c") && i + 1 < args.Length) command = args[++i];
            else if (Is(args[i], "-Module") && i + 1 < args.Length) module = args[++i];
            else if (Is(args[i], "-Help", "-h", "--help")) { Usage(); return 0; }
            else { Console.Error.WriteLine($"Unknown argument '{args[i]}'."); Usage(); return 2; }
        }
        if (command is null) { Usage(); return 2; }
        module ??= FindModule();
        if (module is null)
        {
            Console.Error.WriteLine("Cannot find out/ConnTrack/ConnTrack.psd1: build first (dotnet build src/Cmdlets), or pass -Module.");
            return 2;
        }

        var iss = InitialSessionState.CreateDefault2();
        StandIns.AddMissing(iss);
        iss.ImportPSModule([module]);
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(Environment.CurrentDirectory);
        using var ps = PowerShell.Create(runspace);
        ps.AddScript(command);

        var output = new PSDataCollection<PSObject>();
        var printer = new Printer(Console.Out);
        output.DataAdded += (_, e) => printer.Print(output[e.Index]);
        ps.Streams.Error.DataAdded += (_, e) => PrintError(ps.Streams.Error[e.Index]);
        ps.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine($"WARNING: {ps.Streams.Warning[e.Index].Message}");
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; ps.BeginStop(null, null); };
        try
        {
            ps.Invoke(null, output);
        }
        catch (RuntimeException e)
        {
            PrintError(e.ErrorRecord);
            return 1;
        }
        finally
        {
            Console.Out.Flush();
        }
        return ps.HadErrors ? 1 : 0;
    }

    private static void PrintError(ErrorRecord error) =>
        Console.Error.WriteLine($"ERROR: {error.Exception.Message}{Environment.NewLine}  FullyQualifiedErrorId: {error.FullyQualifiedErrorId}  Category: {error.CategoryInfo.Category}  Target: {error.TargetObject}");

    private static bool Is(string arg, params string[] names) =>
        names.Any(n => string.Equals(arg, n, StringComparison.OrdinalIgnoreCase));

    private static string? FindModule()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "out", "ConnTrack", "ConnTrack.psd1");
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    private static void Usage() => Console.Error.WriteLine(
        "PwshHost -Command \"<PowerShell>\" [-Module <path to ConnTrack.psd1>]" + Environment.NewLine +
        "  e.g. PwshHost -Command \"Read-ConnTrace ./samples/loopback.pcap | Where-Object conn_state -eq REJ\"");
}

/// <summary>Writes pipeline output readably: a zeek-cut-like header and rows for ConnInfo, properties otherwise.</summary>
internal sealed class Printer(TextWriter writer)
{
    private const string ConnInfoType = "ConnTrack.Model.ConnInfo";
    private bool _connHeaderWritten;

    public void Print(PSObject item)
    {
        if (item.BaseObject.GetType().FullName == ConnInfoType)
        {
            var names = (string[])item.BaseObject.GetType().GetField("FieldNames")!.GetValue(null)!;
            if (!_connHeaderWritten)
            {
                writer.WriteLine("#fields\t" + string.Join('\t', names));
                _connHeaderWritten = true;
            }
            writer.WriteLine(string.Join('\t', names.Select(n => Cell(item.Properties[n]?.Value))));
            return;
        }
        var baseObject = item.BaseObject;
        if (baseObject is string or ValueType)
        {
            writer.WriteLine(Cell(baseObject));
            return;
        }
        var sb = new StringBuilder();
        foreach (var property in item.Properties)
        {
            object? value;
            try { value = property.Value; } catch (Exception e) { value = $"<{e.GetType().Name}>"; }
            sb.Append(property.Name).Append(" : ").AppendLine(Cell(value));
        }
        writer.WriteLine(sb.ToString());
    }

    private static string Cell(object? value) => value switch
    {
        null => "-",
        PSObject p => Cell(p.BaseObject),
        DateTime t => t.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
        double d => d.ToString("0.000000", CultureInfo.InvariantCulture),
        bool b => b ? "T" : "F",
        string s => s,
        IDictionary dict => "{" + string.Join(", ", dict.Keys.Cast<object>().Select(k => $"{Cell(k)}={Cell(dict[k])}")) + "}",
        IEnumerable e => string.Join(",", e.Cast<object?>().Select(Cell)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

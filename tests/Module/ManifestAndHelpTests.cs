using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ConnTrack.Module.Tests;

public sealed class ManifestAndHelpTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    private static readonly string[] AllCmdlets =
        ["Read-ConnTrace", "Watch-ConnInterface", "Get-ConnInterface", "Export-ConnLog", "Import-ConnLog", "Get-ConnTrackConfig", "New-ConnTrackConfig"];

    /// <summary>Commands of the Utility and Management modules that pwsh has and the hosted engine does not.</summary>
    private static readonly HashSet<string> MissingHere = new(StringComparer.OrdinalIgnoreCase)
        { "Get-ChildItem", "Group-Object", "Export-Csv", "Format-Table", "Get-Item" };

    private static Hashtable Manifest(string path)
    {
        var ast = Parser.ParseFile(path, out _, out var errors);
        Assert.Empty(errors);
        var table = (HashtableAst)ast.Find(a => a is HashtableAst, false)!;
        return (Hashtable)table.SafeGetValue();
    }

    [Fact]
    public void ManifestExportsExactlyTheCmdletsAndMatchesTheBuildVersion()
    {
        var m = Manifest(Path.Combine(ModuleSession.RepoRoot, "ConnTrack.psd1"));
        Assert.Equal(AllCmdlets.Order(), ((object[])m["CmdletsToExport"]!).Cast<string>().Order());
        Assert.Empty((object[])m["FunctionsToExport"]!);
        Assert.Empty((object[])m["AliasesToExport"]!);
        Assert.Equal(["Core"], ((object[])m["CompatiblePSEditions"]!).Cast<string>());
        Assert.Equal("7.4", m["PowerShellVersion"]);
        Assert.Equal(["ConnTrack.format.ps1xml"], ((object[])m["FormatsToProcess"]!).Cast<string>());
        var props = File.ReadAllText(Path.Combine(ModuleSession.RepoRoot, "Directory.Build.props"));
        Assert.Equal(Regex.Match(props, "<ModuleVersion>(.*?)</ModuleVersion>").Groups[1].Value, m["ModuleVersion"]);
        Assert.Equal(File.ReadAllText(Path.Combine(ModuleSession.RepoRoot, "ConnTrack.psd1")), File.ReadAllText(ModuleSession.ModuleManifest));
    }

    [Fact]
    public void ModuleFolderHoldsWhatImportNeedsAndNotTheEngineOfPowerShell()
    {
        var dir = Path.GetDirectoryName(ModuleSession.ModuleManifest)!;
        foreach (var f in new[] { "ConnTrack.dll", "ConnTrack.Engine.dll", "YamlDotNet.dll", "SharpPcap.dll", "PacketDotNet.dll",
                                  "ConnTrack.format.ps1xml", Path.Combine("en-US", "ConnTrack.dll-Help.xml") })
            Assert.True(File.Exists(Path.Combine(dir, f)), f + " missing from out/ConnTrack");
        Assert.False(File.Exists(Path.Combine(dir, "System.Management.Automation.dll")));
    }

    [Fact]
    public void ImportedModuleHasTheCmdletsAndFormatFile()
    {
        var module = Assert.Single(_s.Run("Get-Module ConnTrack"));
        Assert.Equal("0.1.0", module.Properties["Version"].Value!.ToString());
        var loaded = _s.Run("(Get-Command -Module ConnTrack).Name").Select(o => (string)o.BaseObject).ToList();
        Assert.Contains("Read-ConnTrace", loaded);
        Assert.Contains("Export-ConnLog", loaded);
        Assert.Contains("Import-ConnLog", loaded);
        Assert.All(loaded, n => Assert.Contains(n, AllCmdlets));
        var formats = _s.Run("(Get-Module ConnTrack).ExportedFormatFiles").Select(o => (string)o.BaseObject).ToList();
        Assert.EndsWith("ConnTrack.format.ps1xml", Assert.Single(formats));
    }

    [Fact]
    public void ConnInfoTableViewReadsLikeZeekCut()
    {
        var doc = XDocument.Load(Path.Combine(Path.GetDirectoryName(ModuleSession.ModuleManifest)!, "ConnTrack.format.ps1xml"));
        var view = Assert.Single(doc.Descendants("View"), v => v.Element("ViewSelectedBy")?.Element("TypeName")?.Value == "ConnTrack.Model.ConnInfo");
        var labels = view.Descendants("TableColumnHeader").Select(h => h.Element("Label")!.Value).ToList();
        Assert.Equal(["ts", "uid", "orig_h", "orig_p", "resp_h", "resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "history"], labels);
        Assert.Equal(labels.Count, view.Descendants("TableColumnItem").Count());
    }

    [Fact]
    public void HelpFileDocumentsEveryCmdletOfTheManifest()
    {
        var doc = XDocument.Load(Path.Combine(ModuleSession.RepoRoot, "src", "Cmdlets", "en-US", "ConnTrack.dll-Help.xml"));
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        var names = doc.Descendants(command + "details").Select(d => d.Element(command + "name")!.Value).ToList();
        Assert.Equal(AllCmdlets.Order(), names.Order());
    }

    public static TheoryData<string> LoadedCmdlets() => new(AllCmdlets);

    [Theory]
    [MemberData(nameof(LoadedCmdlets))]
    public void EveryCmdletAndParameterHasHelp(string name)
    {
        if (_s.Run($"Get-Command {name} -ErrorAction Ignore").Count == 0)
            return; // written by another helper; the manifest/help-file test above covers it until it is merged
        var help = Assert.Single(_s.Run($"Get-Help {name} -Full"));
        var synopsis = ((string)help.Properties["Synopsis"].Value!).Trim();
        Assert.False(synopsis.StartsWith(name, StringComparison.OrdinalIgnoreCase), $"{name} has no synopsis (help shows syntax)");
        Assert.Contains(_s.Run($"(Get-Help {name} -Full).description.Text -join ''"), o => o.ToString().Length > 20);
        var parameters = _s.Run($"(Get-Command {name}).Parameters.Keys | Where-Object {{ $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }}")
            .Select(o => (string)o.BaseObject).ToList();
        Assert.NotEmpty(parameters);
        foreach (var p in parameters)
        {
            var text = string.Concat(_s.Run($"(Get-Help {name} -Parameter {p}).description.Text").Select(o => o.ToString()));
            Assert.True(text.Length > 10, $"{name} -{p} has no description");
        }
        Assert.True(_s.Run($"(Get-Help {name} -Examples).examples.example.Count").Select(o => (int)o.BaseObject).Single() >= 2, $"{name} needs examples");
    }

    [Theory]
    [MemberData(nameof(LoadedCmdlets))]
    public void EveryExampleRuns(string name)
    {
        if (_s.Run($"Get-Command {name} -ErrorAction Ignore").Count == 0) return;
        Directory.CreateDirectory(Path.Combine(_s.TempDir, "samples"));
        File.Copy(ModuleSession.SamplePcap, Path.Combine(_s.TempDir, "samples", "loopback.pcap"));
        var codes = _s.Run($"(Get-Help {name} -Examples).examples.example | ForEach-Object {{ $_.code }}").Select(o => o.ToString()).ToList();
        foreach (var code in codes)
        {
            var ast = Parser.ParseInput(code, out _, out var parseErrors);
            Assert.True(parseErrors.Length == 0, $"example does not parse: {code}");
            var commands = ast.FindAll(a => a is CommandAst, true).Select(a => ((CommandAst)a).GetCommandName()).Where(n => n is not null).ToList();
            if (commands.Any(MissingHere.Contains)) continue; // needs a pwsh module the hosted engine lacks
            var output = _s.Run(code, out var errors);
            Assert.True(errors.Count == 0, $"example failed: {code}\n" + string.Join("\n", errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        }
    }
}

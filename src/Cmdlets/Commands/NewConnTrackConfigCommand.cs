using System.Management.Automation;
using System.Text;
using ConnTrack.Infrastructure;

namespace ConnTrack.Commands;

/// <summary>New-ConnTrackConfig: writes the commented YAML template to start a configuration from.</summary>
[Cmdlet(VerbsCommon.New, "ConnTrackConfig", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class NewConnTrackConfigCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override void EndProcessing()
    {
        var path = PathResolver.ResolveOne(this, Path);
        if (File.Exists(path) && (NoClobber || !Force))
        {
            ThrowTerminatingError(new ErrorRecord(
                new IOException($"The file '{path}' already exists; use -Force to overwrite it."),
                ErrorIds.ConfigFileExists, ErrorCategory.ResourceExists, path));
        }
        if (!ShouldProcess(path, "Write ConnTrack configuration template")) return;
        File.WriteAllText(path, EngineBridge.ConfigTemplate(), new UTF8Encoding(false));
        WriteObject(new FileInfo(path));
    }
}

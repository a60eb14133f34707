using System.Management.Automation;
using ConnTrack.Engine.Config;
using ConnTrack.Infrastructure;

namespace ConnTrack.Commands;

/// <summary>Get-ConnTrackConfig: the effective engine options (Zeek's defaults, or a YAML file over them).</summary>
[Cmdlet(VerbsCommon.Get, "ConnTrackConfig")]
[OutputType(typeof(ConnTrackOptions))]
public sealed class GetConnTrackConfigCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    protected override void EndProcessing() => WriteObject(OptionsResolver.Resolve(this, null, ConfigPath));
}

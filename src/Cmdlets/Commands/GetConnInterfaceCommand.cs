using System.Management.Automation;
using ConnTrack.Completers;
using ConnTrack.Engine.Capture;
using ConnTrack.Model;

namespace ConnTrack.Commands;

/// <summary>
/// <para type="synopsis">Lists the network interfaces ConnTrack can capture on.</para>
/// <para type="description">Each device as libpcap lists it: name, description, addresses, flags, and the link type
/// (read by opening the device, so it is empty without capture rights).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ConnInterface")]
[OutputType(typeof(ConnInterfaceInfo))]
public sealed class GetConnInterfaceCommand : PSCmdlet
{
    /// <summary>Device names to list; wildcards allowed. All devices when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    private IReadOnlyList<CaptureDeviceInfo>? _devices;

    protected override void BeginProcessing()
    {
        try
        {
            _devices = LiveCaptureSource.ListDevices(readLinkTypes: true);
        }
        catch (LiveCaptureException ex)
        {
            ThrowTerminatingError(LiveErrors.ToErrorRecord(ex, null));
        }
    }

    protected override void ProcessRecord()
    {
        if (_devices is null)
            return;
        if (Name is null || Name.Length == 0)
        {
            foreach (var d in _devices)
                WriteObject(ConnInterfaceInfo.FromDevice(d));
            return;
        }
        foreach (string name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            bool found = false;
            foreach (var d in _devices)
            {
                if (!pattern.IsMatch(d.Name))
                    continue;
                found = true;
                WriteObject(ConnInterfaceInfo.FromDevice(d));
            }
            if (!found && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                var ex = new LiveCaptureException(LiveCaptureProblem.InterfaceNotFound,
                    $"There is no capture device named '{name}'.", availableInterfaces: _devices.Select(d => d.Name).ToArray(),
                    interfaceName: name);
                WriteError(LiveErrors.ToErrorRecord(ex, name));
            }
        }
    }
}

using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ConnTrack.Engine.Capture;

namespace ConnTrack.Completers;

/// <summary>Completes capture device names (Watch-ConnInterface -Interface, Get-ConnInterface -Name).</summary>
public sealed class InterfaceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<CaptureDeviceInfo> devices;
        try
        {
            devices = LiveCaptureSource.ListDevices();
        }
        catch (LiveCaptureException)
        {
            // No libpcap or no rights: nothing to offer, and completion must never throw.
            yield break;
        }

        string typed = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(typed + "*", WildcardOptions.IgnoreCase);
        foreach (var d in devices)
        {
            if (!pattern.IsMatch(d.Name))
                continue;
            string text = NeedsQuotes(d.Name) ? "'" + d.Name.Replace("'", "''") + "'" : d.Name;
            string tip = string.IsNullOrEmpty(d.Description) ? d.Name : $"{d.Name}: {d.Description}";
            yield return new CompletionResult(text, d.Name, CompletionResultType.ParameterValue, tip);
        }
    }

    private static bool NeedsQuotes(string name)
    {
        foreach (char c in name)
        {
            if (char.IsWhiteSpace(c) || c is '{' or '}' or '(' or ')' or '$' or '\'' or '"' or ';' or ',' or '`' or '@' or '#')
                return true;
        }
        return false;
    }
}

using System.Management.Automation;
using System.Net;
using ConnTrack.Engine.Config;

namespace ConnTrack.Infrastructure;

/// <summary>
/// The effective engine options of a command: Zeek's defaults, then -Config (an object) or -ConfigPath (YAML),
/// then the direct parameters. A file that cannot be used ends the command (it cannot run as the user asked).
/// </summary>
internal static class OptionsResolver
{
    public static ConnTrackOptions Resolve(PSCmdlet cmdlet, ConnTrackOptions? config, string? configPath)
    {
        if (config is not null) return config.Clone();
        if (string.IsNullOrEmpty(configPath)) return new ConnTrackOptions();
        var path = PathResolver.ResolveOne(cmdlet, configPath);
        if (!File.Exists(path))
            cmdlet.ThrowTerminatingError(PathResolver.NotFound(path, ErrorIds.ConfigFileNotFound));
        try
        {
            return EngineBridge.LoadConfig(path);
        }
        catch (Exception e) when (EngineBridge.IsConfigError(e) || e is InvalidDataException or FormatException)
        {
            var message = e.Message.Contains(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}";
            cmdlet.ThrowTerminatingError(new ErrorRecord(new InvalidDataException($"The configuration file is not valid: {message}", e),
                ErrorIds.ConfigFileInvalid, ErrorCategory.InvalidData, path));
            throw; // not reached
        }
    }

    /// <summary>Applies -LikelyServerPorts ("443/tcp"), -LocalNets ("10.0.0.0/8") and -IgnoreChecksums.</summary>
    public static void ApplyCommon(PSCmdlet cmdlet, ConnTrackOptions options, string[]? likelyServerPorts, string[]? localNets, bool? ignoreChecksums)
    {
        if (likelyServerPorts is not null)
        {
            var set = new HashSet<PortSpec>();
            foreach (var text in likelyServerPorts)
            {
                if (!PortSpec.TryParse(text, out var spec))
                    cmdlet.ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException($"-LikelyServerPorts: '{text}' is not a port like 80/tcp, 53/udp or 8/icmp."),
                        ErrorIds.ConfigParameterInvalid, ErrorCategory.InvalidArgument, text));
                set.Add(spec);
            }
            options.LikelyServerPorts = set;
        }
        if (localNets is not null)
        {
            var nets = new List<IPNetwork>();
            foreach (var text in localNets)
            {
                if (!IPNetwork.TryParse(text, out var net))
                    cmdlet.ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException($"-LocalNets: '{text}' is not a network like 10.0.0.0/8 or fd00::/8."),
                        ErrorIds.ConfigParameterInvalid, ErrorCategory.InvalidArgument, text));
                nets.Add(net);
            }
            options.LocalNets = nets;
        }
        if (ignoreChecksums is bool ignore) options.IgnoreChecksums = ignore;
    }
}

using System.Reflection;
using ConnTrack.Engine.Config;

namespace ConnTrack.Infrastructure;

/// <summary>
/// The engine calls whose engine side other helpers are writing at the same time (YAML config loader and
/// template, BPF filter errors, log readers and writers). Until they are merged the engine types are looked up
/// by name and a minimal stand-in serves; once merged the engine's own code runs with no change here.
/// TODO(merge): replace the look-ups with direct calls when ConnTrackConfigLoader/Writer have landed on main.
/// </summary>
internal static class EngineBridge
{
    private static readonly Assembly Engine = typeof(ConnTrackOptions).Assembly;

    /// <summary>Loads a YAML configuration file (ConnTrackConfigLoader.Load).</summary>
    public static ConnTrackOptions LoadConfig(string path)
    {
        var loader = Engine.GetType("ConnTrack.Engine.Config.ConnTrackConfigLoader");
        var load = loader?.GetMethod("Load", BindingFlags.Public | BindingFlags.Static, [typeof(string)]);
        if (load is not null)
        {
            try { return (ConnTrackOptions)load.Invoke(null, [path])!; }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
        return PendingConfigLoader.Load(path);
    }

    /// <summary>The commented YAML template (ConnTrackConfigWriter.Template()).</summary>
    public static string ConfigTemplate()
    {
        var writer = Engine.GetType("ConnTrack.Engine.Config.ConnTrackConfigWriter");
        var template = writer?.GetMethod("Template", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes);
        if (template is not null) return (string)template.Invoke(null, null)!;
        return PendingConfigLoader.Template();
    }

    /// <summary>A bad YAML configuration (the engine's ConnTrackConfigException, or the stand-in's).</summary>
    public static bool IsConfigError(Exception e) =>
        e.GetType().Name == "ConnTrackConfigException" || e is YamlDotNet.Core.YamlException;

    /// <summary>A BPF expression libpcap rejects, or no libpcap at all (the engine's CaptureFilterException).</summary>
    public static bool IsFilterError(Exception e) => e.GetType().Name == "CaptureFilterException";
}

/// <summary>
/// Stand-in for the engine's YAML loader until it is merged: checks the YAML is well formed and is a mapping,
/// and reads the handful of keys the cmdlets' own parameters also set. TODO(merge): delete.
/// </summary>
internal static class PendingConfigLoader
{
    public static ConnTrackOptions Load(string path)
    {
        var options = new ConnTrackOptions();
        using var text = File.OpenText(path);
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(text);
        if (stream.Documents.Count == 0) return options;
        if (stream.Documents[0].RootNode is not YamlDotNet.RepresentationModel.YamlMappingNode root)
            throw new InvalidDataException($"{path}: the configuration must be a YAML mapping of settings");
        foreach (var (key, value) in root.Children)
        {
            var name = key.ToString();
            if (name == "ignore_checksums" && value is YamlDotNet.RepresentationModel.YamlScalarNode s)
                options.IgnoreChecksums = bool.Parse(s.Value ?? "false");
        }
        return options;
    }

    public static string Template() =>
        "# ConnTrack configuration (YAML). Every setting is optional; the defaults are Zeek's.\n" +
        "# ignore_checksums: false\n";
}

#if !ENGINE_HAS_CONFIG
using ConnTrack.Engine.Config;

namespace ConnTrack.Infrastructure;

/// <summary>
/// Stand-in for the engine's YAML loader until the records branch is merged: checks the YAML is well formed
/// and a mapping; applies no settings. TODO(merge): delete.
/// </summary>
internal static class PendingConfig
{
    public static ConnTrackOptions Load(string path)
    {
        using var text = File.OpenText(path);
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(text);
        if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is not YamlDotNet.RepresentationModel.YamlMappingNode)
            throw new InvalidDataException($"{path}: the configuration must be a YAML mapping of settings");
        return new ConnTrackOptions();
    }

    public static string Template() => "# ConnTrack configuration (YAML). Every setting is optional; the defaults are Zeek's.\n";
}
#endif

using ConnTrack.Engine.Config;

namespace ConnTrack.Infrastructure;

/// <summary>The engine's YAML configuration calls and the engine exceptions the cmdlets map, in one place.</summary>
internal static class EngineBridge
{
    public static ConnTrackOptions LoadConfig(string path) => ConnTrackConfigLoader.Load(path);
    public static string ConfigTemplate() => ConnTrackConfigWriter.Template();
    public static bool IsConfigError(Exception e) => e is ConnTrackConfigException;

    /// <summary>A BPF expression libpcap rejects, or no libpcap at all.</summary>
    public static bool IsFilterError(Exception e) => e is ConnTrack.Engine.Capture.CaptureFilterException;
}

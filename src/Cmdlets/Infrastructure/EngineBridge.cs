using ConnTrack.Engine.Config;

namespace ConnTrack.Infrastructure;

/// <summary>
/// The engine's YAML configuration calls, in one place. TODO(merge): once the records branch (ConnTrackConfigLoader,
/// ConnTrackConfigWriter, ConnTrackConfigException) is on main, the #else branch and PendingConfig.cs go.
/// </summary>
internal static class EngineBridge
{
#if ENGINE_HAS_CONFIG
    public static ConnTrackOptions LoadConfig(string path) => ConnTrackConfigLoader.Load(path);
    public static string ConfigTemplate() => ConnTrackConfigWriter.Template();
    public static bool IsConfigError(Exception e) => e is ConnTrackConfigException;
#else
    public static ConnTrackOptions LoadConfig(string path) => PendingConfig.Load(path);
    public static string ConfigTemplate() => PendingConfig.Template();
    public static bool IsConfigError(Exception e) => e is YamlDotNet.Core.YamlException or InvalidDataException or InvalidOperationException;
#endif

    /// <summary>A BPF expression libpcap rejects, or no libpcap at all.</summary>
    public static bool IsFilterError(Exception e) => e is ConnTrack.Engine.Capture.CaptureFilterException;
}

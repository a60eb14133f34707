using System.Runtime.InteropServices;
using ConnTrack.Engine.Capture;
using Xunit;

namespace ConnTrack.Live.Tests;

/// <summary>Whether live capture can run here: root (or capture rights) and libpcap.</summary>
internal static class LiveEnvironment
{
    public const string Loopback = "lo";

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<string?> Reason = new(ComputeReason);

    /// <summary>Why live tests cannot run here, or null when they can.</summary>
    public static string? SkipReason => Reason.Value;

    private static string? ComputeReason()
    {
        if (!OperatingSystem.IsLinux())
            return "live capture tests use the Linux loopback device 'lo'";
        try
        {
            if (GetEuid() != 0)
                return "live capture needs root (run the tests as root, as CI does)";
        }
        catch (DllNotFoundException)
        {
            return "cannot tell whether this process is root";
        }
        try
        {
            if (!LiveCaptureSource.ListDevices().Any(d => d.Name == Loopback))
                return "libpcap lists no 'lo' device";
        }
        catch (LiveCaptureException ex)
        {
            return ex.Message;
        }
        return null;
    }
}

/// <summary>
/// A test that captures live traffic: skipped with the reason when the machine cannot capture, except in CI
/// (CI=true), where it runs and fails so a broken CI setup is seen.
/// </summary>
public sealed class LiveFactAttribute : FactAttribute
{
    public LiveFactAttribute()
    {
        if (LiveEnvironment.SkipReason is string reason && !LiveEnvironment.IsCi)
            Skip = "Live capture unavailable: " + reason;
    }
}

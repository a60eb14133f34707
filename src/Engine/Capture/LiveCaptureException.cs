namespace ConnTrack.Engine.Capture;

/// <summary>Why a live capture could not start or go on.</summary>
public enum LiveCaptureProblem
{
    /// <summary>The native capture library (libpcap, or Npcap on Windows) could not be loaded.</summary>
    LibpcapNotFound,
    /// <summary>The process may not capture (needs root or CAP_NET_RAW, or Npcap's admin-only mode).</summary>
    PermissionDenied,
    /// <summary>No capture device has the name given.</summary>
    InterfaceNotFound,
    /// <summary>The BPF filter expression does not compile.</summary>
    InvalidFilter,
    /// <summary>The device exists but could not be opened (down, unsupported, busy...).</summary>
    OpenFailed,
    /// <summary>The capture stopped with an error while running.</summary>
    CaptureFailed,
}

/// <summary>
/// A live capture problem, with a message that says what to do about it. For
/// <see cref="LiveCaptureProblem.InterfaceNotFound"/>, <see cref="AvailableInterfaces"/> lists the devices there are.
/// </summary>
public sealed class LiveCaptureException : Exception
{
    public LiveCaptureException(LiveCaptureProblem problem, string message, Exception? inner = null,
        IReadOnlyList<string>? availableInterfaces = null, string? interfaceName = null)
        : base(message, inner)
    {
        Problem = problem;
        AvailableInterfaces = availableInterfaces ?? Array.Empty<string>();
        InterfaceName = interfaceName;
    }

    public LiveCaptureProblem Problem { get; }

    /// <summary>The device the capture was for, when known.</summary>
    public string? InterfaceName { get; }

    /// <summary>The capture devices found (filled for <see cref="LiveCaptureProblem.InterfaceNotFound"/>).</summary>
    public IReadOnlyList<string> AvailableInterfaces { get; }

    internal const string InstallHint =
        "Install libpcap (Debian/Ubuntu: apt-get install libpcap0.8; Fedora/RHEL: dnf install libpcap; " +
        "macOS ships it) or, on Windows, Npcap from https://npcap.com.";

    internal const string PermissionHint =
        "Live capture needs privileges: run as root (sudo), or give the host process CAP_NET_RAW and CAP_NET_ADMIN " +
        "(setcap cap_net_raw,cap_net_admin=eip <path to pwsh or dotnet>); on Windows, run elevated or install Npcap " +
        "without the admin-only option.";

    /// <summary>True when <paramref name="ex"/> (or an inner exception) says the native library is missing.</summary>
    internal static bool IsLibraryMissing(Exception ex)
    {
        for (Exception? e = ex; e != null; e = e.InnerException)
        {
            if (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
                return true;
        }
        return false;
    }

    internal static LiveCaptureException LibraryMissing(Exception inner) =>
        new(LiveCaptureProblem.LibpcapNotFound,
            $"The native packet capture library could not be loaded ({FirstLine(Innermost(inner).Message)}). {InstallHint}",
            inner);

    internal static Exception Innermost(Exception ex)
    {
        while (ex.InnerException != null)
            ex = ex.InnerException;
        return ex;
    }

    internal static string FirstLine(string text)
    {
        int nl = text.IndexOfAny(['\r', '\n']);
        return (nl < 0 ? text : text[..nl]).Trim();
    }
}

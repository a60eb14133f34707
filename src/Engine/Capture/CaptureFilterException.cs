namespace ConnTrack.Engine.Capture;

/// <summary>A BPF capture filter could not be used: libpcap is missing, or the expression does not compile.</summary>
public sealed class CaptureFilterException : Exception
{
    /// <summary>The filter expression as given.</summary>
    public string Expression { get; }

    /// <summary>True when the problem is that libpcap itself could not be loaded.</summary>
    public bool LibraryMissing { get; }

    public CaptureFilterException(string expression, string message, bool libraryMissing = false, Exception? inner = null)
        : base(message, inner)
    {
        Expression = expression;
        LibraryMissing = libraryMissing;
    }
}

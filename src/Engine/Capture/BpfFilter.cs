using System.Runtime.InteropServices;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// A tcpdump-style filter expression compiled by the system libpcap (pcap_compile on a "dead" handle) and run
/// on each frame with pcap_offline_filter. One program per link type, compiled when first needed; matching a
/// frame allocates nothing. libpcap is loaded on first use, so reading files without a filter never needs it.
/// </summary>
public sealed unsafe class BpfFilter : IDisposable
{
    private const uint NetmaskUnknown = 0xffffffff;

    private readonly object _gate = new();
    private Program[] _programs = [];
    private bool _disposed;

    /// <summary>Prepares a filter. Loads libpcap now (throwing <see cref="CaptureFilterException"/> if it is missing).</summary>
    public BpfFilter(string expression, int snapLength = CaptureReader.MaxSnapLength)
    {
        ArgumentNullException.ThrowIfNull(expression);
        Expression = expression;
        SnapLength = snapLength;
        Native.Load(expression);
    }

    public string Expression { get; }
    public int SnapLength { get; }

    /// <summary>
    /// Compiles the program for <paramref name="linkType"/> now, so a bad expression is reported before any
    /// packet is read. Throws <see cref="CaptureFilterException"/> quoting libpcap's message.
    /// </summary>
    public void Prepare(LinkType linkType) => ProgramFor(linkType);

    /// <summary>True when the frame passes the filter.</summary>
    public bool Matches(in RawFrame frame)
    {
        IntPtr program = ProgramFor(frame.LinkType);
        var header = new PcapPacketHeader
        {
            Seconds = new CLong((nint)(frame.Timestamp / 1_000_000_000L)),
            Microseconds = new CLong((nint)(frame.Timestamp % 1_000_000_000L / 1000)),
            CapturedLength = (uint)frame.Data.Length,
            Length = (uint)Math.Max(frame.OriginalLength, frame.Data.Length),
        };
        fixed (byte* data = frame.Data)
        {
            // libpcap reads nothing past caplen; an empty frame still needs a valid pointer
            byte dummy = 0;
            byte* p = data != null ? data : &dummy;
            return Native.OfflineFilter(program, &header, p) != 0;
        }
    }

    private IntPtr ProgramFor(LinkType linkType)
    {
        var programs = _programs;
        for (int i = 0; i < programs.Length; i++)
        {
            if (programs[i].LinkType == linkType)
                return programs[i].Code;
        }
        return Compile(linkType);
    }

    private IntPtr Compile(LinkType linkType)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (var p in _programs)
            {
                if (p.LinkType == linkType)
                    return p.Code;
            }

            IntPtr pcap = Native.OpenDead(DltFor(linkType), SnapLength);
            if (pcap == IntPtr.Zero)
                throw new CaptureFilterException(Expression, $"libpcap could not open a handle for link type {linkType} ({(int)linkType}).");
            var code = (BpfProgram*)NativeMemory.AllocZeroed((nuint)sizeof(BpfProgram));
            IntPtr text = Marshal.StringToCoTaskMemUTF8(Expression);
            try
            {
                if (Native.Compile(pcap, code, (byte*)text, 1, NetmaskUnknown) != 0)
                {
                    string reason = Marshal.PtrToStringUTF8(Native.GetError(pcap)) ?? "unknown error";
                    NativeMemory.Free(code);
                    Native.Close(pcap);
                    throw new CaptureFilterException(Expression,
                        $"The capture filter \"{Expression}\" does not compile for link type {linkType}: {reason}");
                }
            }
            finally
            {
                Marshal.FreeCoTaskMem(text);
            }
            // publish a new array so readers without the lock always see a complete one
            var next = new Program[_programs.Length + 1];
            _programs.CopyTo(next, 0);
            next[^1] = new Program(linkType, pcap, (IntPtr)code);
            _programs = next;
            return (IntPtr)code;
        }
    }

    /// <summary>
    /// pcap_open_dead takes the platform's DLT_ value, which differs from the file format's LINKTYPE_ value
    /// for raw IP (LINKTYPE_RAW 101 is DLT_RAW 12, or 14 on OpenBSD). The others we know are equal.
    /// </summary>
    internal static int DltFor(LinkType linkType) => linkType switch
    {
        LinkType.Raw => 12,   // DLT_RAW everywhere we run (OpenBSD, not supported, uses 14)
        _ => (int)linkType,
    };

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var p in _programs)
            {
                Native.FreeCode((BpfProgram*)p.Code);
                NativeMemory.Free((void*)p.Code);
                Native.Close(p.Pcap);
            }
            _programs = [];
        }
        GC.SuppressFinalize(this);
    }

    ~BpfFilter()
    {
        foreach (var p in _programs)
        {
            Native.FreeCode((BpfProgram*)p.Code);
            NativeMemory.Free((void*)p.Code);
            Native.Close(p.Pcap);
        }
    }

    private readonly record struct Program(LinkType LinkType, IntPtr Pcap, IntPtr Code);

    /// <summary>struct bpf_program.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BpfProgram
    {
        public uint Length;
        public IntPtr Instructions;
    }

    /// <summary>struct pcap_pkthdr: a C struct timeval (two C longs; on macOS the second is an int, padded), caplen, len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PcapPacketHeader
    {
        public CLong Seconds;
        public CLong Microseconds;
        public uint CapturedLength;
        public uint Length;
    }

    /// <summary>The libpcap entry points, found with NativeLibrary so no assembly-wide resolver is needed.</summary>
    internal static class Native
    {
        private static readonly object Gate = new();
        private static bool _loaded;

        public static delegate* unmanaged[Cdecl]<int, int, IntPtr> OpenDead;
        public static delegate* unmanaged[Cdecl]<IntPtr, BpfProgram*, byte*, int, uint, int> Compile;
        public static delegate* unmanaged[Cdecl]<IntPtr, PcapPacketHeader*, byte*, int> OfflineFilter;
        public static delegate* unmanaged[Cdecl]<BpfProgram*, void> FreeCode;
        public static delegate* unmanaged[Cdecl]<IntPtr, IntPtr> GetError;
        public static delegate* unmanaged[Cdecl]<IntPtr, void> Close;

        /// <summary>Library names to try, most specific first.</summary>
        internal static IEnumerable<string> Candidates()
        {
            if (OperatingSystem.IsWindows())
            {
                yield return Path.Combine(Environment.SystemDirectory, "Npcap", "wpcap.dll");
                yield return "wpcap";
            }
            else if (OperatingSystem.IsMacOS())
            {
                yield return "libpcap.A.dylib";
                yield return "libpcap.dylib";
            }
            else
            {
                yield return "libpcap.so.0.8";
                yield return "libpcap.so.1";
                yield return "libpcap.so";
            }
            yield return "pcap";
            yield return "wpcap";
        }

        public static void Load(string expression)
        {
            lock (Gate)
            {
                if (_loaded)
                    return;
                IntPtr lib = LoadLibrary(expression, Candidates());
                try
                {
                    OpenDead = (delegate* unmanaged[Cdecl]<int, int, IntPtr>)NativeLibrary.GetExport(lib, "pcap_open_dead");
                    Compile = (delegate* unmanaged[Cdecl]<IntPtr, BpfProgram*, byte*, int, uint, int>)NativeLibrary.GetExport(lib, "pcap_compile");
                    OfflineFilter = (delegate* unmanaged[Cdecl]<IntPtr, PcapPacketHeader*, byte*, int>)NativeLibrary.GetExport(lib, "pcap_offline_filter");
                    FreeCode = (delegate* unmanaged[Cdecl]<BpfProgram*, void>)NativeLibrary.GetExport(lib, "pcap_freecode");
                    GetError = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "pcap_geterr");
                    Close = (delegate* unmanaged[Cdecl]<IntPtr, void>)NativeLibrary.GetExport(lib, "pcap_close");
                }
                catch (EntryPointNotFoundException e)
                {
                    throw new CaptureFilterException(expression,
                        $"The libpcap found is too old for BPF filtering ({e.Message}). {MissingMessage()}", libraryMissing: true, e);
                }
                _loaded = true;
            }
        }

        /// <summary>Loads the first of <paramref name="candidates"/> that loads, or throws the "install libpcap" error.</summary>
        internal static IntPtr LoadLibrary(string expression, IEnumerable<string> candidates)
        {
            var tried = new List<string>();
            foreach (var name in candidates)
            {
                tried.Add(name);
                if (NativeLibrary.TryLoad(name, typeof(BpfFilter).Assembly, null, out IntPtr lib))
                    return lib;
            }
            throw new CaptureFilterException(expression, MissingMessage(tried), libraryMissing: true);
        }

        internal static string MissingMessage() => MissingMessage(Candidates());

        private static string MissingMessage(IEnumerable<string> tried) =>
            "BPF filtering needs libpcap, which could not be loaded (tried " + string.Join(", ", tried) + "). " +
            "Install it: on Debian/Ubuntu 'apt-get install libpcap0.8', on Fedora/RHEL 'dnf install libpcap', " +
            "on macOS it ships with the system, on Windows install Npcap (https://npcap.com). " +
            "Reading capture files without a filter does not need it.";
    }
}

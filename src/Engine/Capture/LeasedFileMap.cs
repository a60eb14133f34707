using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// A capture file mapped into memory window by window, under a read lease (Linux) so that no other program can
/// truncate it while a window is in use.
/// </summary>
/// <remarks>
/// <para>
/// Reading a mapped file in place saves the copy from the page cache into a buffer, but a mapping has one hazard:
/// touching a page the file no longer has (another program truncated it) raises SIGBUS, which ends a .NET process.
/// A read lease (fcntl F_SETLEASE, F_RDLCK) closes that hole. The kernel grants it only while nobody has the file
/// open for writing (a capture still being written is read through the buffer), and once it is held, an open for
/// writing or a truncate by any process waits until the lease is given back (at most /proc/sys/fs/lease-break-time
/// seconds, 45 by default, after which the kernel takes it). The lease holder is told by a signal; we ask for
/// SIGURG, whose default action is to ignore it (the default SIGIO would end the process), and poll the lease's
/// state (F_GETLEASE) instead of relying on the signal.
/// </para>
/// <para>
/// When the lease is being broken, the windows are detached from the file before the lease is given back: each
/// window's bytes are copied into anonymous memory, which mremap puts at the window's own addresses in one step,
/// so a reader inside the window (on another thread, or paused between two packets) goes on reading the same
/// bytes and never touches the file's pages again. The reader then goes on with plain reads after the window
/// (<see cref="CaptureInput"/>), and sees the file as the other program leaves it. A reader that is running finds
/// the break itself at its next window (every few milliseconds); one that is paused is covered by a watcher
/// (a pool timer and the lease's signal) that polls every open map's lease. The other program so waits for a few milliseconds, not 45 s.
/// </para>
/// <para>
/// Where no lease can be had (another OS, a file system without leases, a file open for writing, a file that is
/// neither ours nor readable with CAP_LEASE, lease-break-time below a second), <see cref="TryOpen"/> returns null
/// and the file is read through the buffer.
/// </para>
/// </remarks>
internal sealed unsafe class LeasedFileMap : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly int _fd;
    private readonly long _pageMask;
    private readonly object _gate = new(); // the windows and the lease: the reader's slides against the watcher's detach
    private Window _current, _previous;
    private bool _leaseHeld;
    private bool _disposed;
    private volatile bool _detached;

    /// <summary>A mapped range: its start (page aligned) and length in bytes.</summary>
    private readonly record struct Window(nint Address, nuint Length)
    {
        public bool IsMapped => Address != 0;
    }

    private LeasedFileMap(SafeFileHandle handle, int fd)
    {
        _handle = handle;
        _fd = fd;
        _pageMask = Environment.SystemPageSize - 1;
        _leaseHeld = true;
    }

    /// <summary>
    /// True once the windows were detached from the file (the lease is being broken): the window in use holds the
    /// same bytes, but no more windows are mapped; read on from the file after it.
    /// </summary>
    public bool IsDetached => _detached;

    /// <summary>Maps <paramref name="file"/> under a read lease, or returns null when that cannot be done safely.</summary>
    public static LeasedFileMap? TryOpen(FileStream file)
    {
        if (!Native.IsAvailable || !Native.LeaseBreakTimeIsUsable())
            return null;
        var handle = file.SafeFileHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            // The signal first: the default SIGIO of a lease break would end the process.
            if (Native.Fcntl(fd, Native.F_SETSIG, Native.SIGURG) != 0 ||
                Native.Fcntl(fd, Native.F_SETLEASE, Native.F_RDLCK) != 0)
            {
                handle.DangerousRelease();
                return null;
            }
            var map = new LeasedFileMap(handle, fd);
            LeaseWatcher.Add(map);
            return map;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            if (added) handle.DangerousRelease();
            Native.IsAvailable = false;
            return null;
        }
    }

    /// <summary>
    /// Maps <paramref name="length"/> bytes of the file from <paramref name="fileOffset"/> and returns where they
    /// are, keeping the previous window mapped (a span taken from it a read too late sees its bytes, not unmapped
    /// memory) and unmapping the one before. Returns null when the lease is broken or being broken (or the system
    /// will not map): the caller reads on from the file instead, and must <see cref="Dispose"/> this map.
    /// </summary>
    public byte* TryMapWindow(long fileOffset, long length)
    {
        lock (_gate)
        {
            if (_detached || _disposed || !LeaseIntactLocked())
                return null;
            long aligned = fileOffset & ~_pageMask;
            nuint size = (nuint)(length + (fileOffset - aligned));
            nint at = Native.Mmap(0, size, Native.PROT_READ, Native.MAP_SHARED, _fd, aligned);
            if (at == Native.MapFailed)
                return null;
            Unmap(ref _previous);
            _previous = _current;
            _current = new Window(at, size);
            return (byte*)at + (fileOffset - aligned);
        }
    }

    private bool LeaseIntactLocked() => _leaseHeld && Native.Fcntl(_fd, Native.F_GETLEASE, 0) == Native.F_RDLCK;

    /// <summary>The watcher's check: detaches the windows if the lease is being broken.</summary>
    internal void Poll()
    {
        lock (_gate)
        {
            if (_detached || _disposed || LeaseIntactLocked())
                return;
            DetachLocked();
        }
    }

    /// <summary>
    /// Replaces every window with an anonymous copy of its bytes at the same addresses, then gives the lease back.
    /// A window that cannot be replaced keeps the lease (the other program then waits for <see cref="Dispose"/>).
    /// </summary>
    internal void Detach()
    {
        lock (_gate)
        {
            if (!_detached && !_disposed)
                DetachLocked();
        }
    }

    private void DetachLocked()
    {
        _detached = true;
        LeaseWatcher.Remove(this);
        if (ReplaceWithCopy(_current) && ReplaceWithCopy(_previous))
            ReleaseLeaseLocked();
    }

    private static bool ReplaceWithCopy(Window w)
    {
        if (!w.IsMapped)
            return true;
        nint copy = Native.Mmap(0, w.Length, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_PRIVATE | Native.MAP_ANONYMOUS, -1, 0);
        if (copy == Native.MapFailed)
            return false;
        Buffer.MemoryCopy((void*)w.Address, (void*)copy, w.Length, w.Length);
        // One step: the window's range now holds the copy (a reader in it sees the same bytes throughout).
        if (Native.Mremap(copy, w.Length, w.Length, Native.MREMAP_MAYMOVE | Native.MREMAP_FIXED, w.Address) != w.Address)
        {
            Native.Munmap(copy, w.Length);
            return false;
        }
        return true;
    }

    private void ReleaseLeaseLocked()
    {
        if (!_leaseHeld)
            return;
        _leaseHeld = false;
        Native.Fcntl(_fd, Native.F_SETLEASE, Native.F_UNLCK);
    }

    private static void Unmap(ref Window w)
    {
        if (w.IsMapped)
            Native.Munmap(w.Address, w.Length);
        w = default;
    }

    /// <summary>Unmaps every window and gives the lease back; the file stays open (its owner closes it).</summary>
    public void Dispose()
    {
        LeaseWatcher.Remove(this);
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            Unmap(ref _previous);
            Unmap(ref _current);
            ReleaseLeaseLocked();
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Polls the lease of every open map (every 100 ms on a pool timer, and at once on SIGURG), so that a reader
    /// paused between two packets does not make a program that wants to write the file wait for it. The timer runs
    /// only while a map is open.
    /// </summary>
    private static class LeaseWatcher
    {
        private const int PollMilliseconds = 100;
        private static readonly List<LeasedFileMap> Maps = new();
        private static Timer? _timer;
        private static PosixSignalRegistration? _signal; // held: a collected registration unregisters itself
        private static bool _signalTried;

        public static void Add(LeasedFileMap map)
        {
            lock (Maps)
            {
                Maps.Add(map);
                if (!_signalTried)
                {
                    _signalTried = true;
                    try
                    {
                        // The lease's signal starts a poll at once; the timer alone also works, a little later.
                        _signal = PosixSignalRegistration.Create((PosixSignal)Native.SIGURG, _ => PollAll());
                    }
                    catch (Exception e) when (e is PlatformNotSupportedException or IOException or ArgumentException)
                    {
                    }
                }
                _timer ??= new Timer(_ => PollAll(), null, PollMilliseconds, PollMilliseconds);
            }
        }

        public static void Remove(LeasedFileMap map)
        {
            lock (Maps)
            {
                if (!Maps.Remove(map) || Maps.Count > 0)
                    return;
                _timer?.Dispose();
                _timer = null;
            }
        }

        private static void PollAll()
        {
            LeasedFileMap[] maps;
            lock (Maps)
                maps = Maps.ToArray();
            foreach (var map in maps)
                map.Poll();
        }
    }

    /// <summary>The few libc calls this needs (Linux x64 and arm64, glibc: the constants are theirs).</summary>
    private static class Native
    {
        private const string LibC = "libc.so.6";
        public const int F_SETSIG = 10, F_SETLEASE = 1024, F_GETLEASE = 1025;
        public const int F_RDLCK = 0, F_UNLCK = 2;
        public const int SIGURG = 23;
        public const int PROT_READ = 1, PROT_WRITE = 2;
        public const int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
        public const int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
        public static readonly nint MapFailed = -1;

        public static bool IsAvailable = OperatingSystem.IsLinux() && Environment.Is64BitProcess &&
            RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

        /// <summary>A lease the kernel takes back at once would leave no time to detach the windows.</summary>
        public static bool LeaseBreakTimeIsUsable()
        {
            try
            {
                return int.TryParse(File.ReadAllText("/proc/sys/fs/lease-break-time").Trim(), out int seconds) && seconds >= 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        [DllImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
        public static extern int Fcntl(int fd, int command, int argument);

        [DllImport(LibC, EntryPoint = "mmap", SetLastError = true)]
        public static extern nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

        [DllImport(LibC, EntryPoint = "munmap", SetLastError = true)]
        public static extern int Munmap(nint address, nuint length);

        [DllImport(LibC, EntryPoint = "mremap", SetLastError = true)]
        public static extern nint Mremap(nint oldAddress, nuint oldLength, nuint newLength, int flags, nint newAddress);
    }
}

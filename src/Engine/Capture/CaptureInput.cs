using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// The byte source under a capture reader: lets the reader look at the next <c>n</c> bytes in place. Spans taken
/// from <see cref="Peek(int)"/> stay valid until the next <see cref="Ensure"/> or <see cref="Skip"/> (which may
/// move or replace the bytes under them).
/// </summary>
/// <remarks>
/// Two ways to get the bytes. By default everything is read in large chunks into one pooled buffer, which stays
/// put, so its pages stay mapped and warm. When asked (memory_map_files), a plain file that can be held under a read
/// lease (Linux: see <see cref="LeasedFileMap"/>) is mapped into memory and read in place through a sliding window of
/// <see cref="DefaultMapWindowSize"/> bytes: no copy from the page cache, but every page of the file is a new page of
/// the process, which costs more than the copy wherever page mappings are dear (bench/README.md, 2026-12-03);
/// gzip, pipes, streams, other systems and a file open for writing use the buffer either way. When the mapping ends (its end is reached, or another
/// program wants to write or truncate the file and the lease is given back), reading goes on from the stream
/// right after the last window, so a file that grew is read to its new end and a truncated one ends where it was
/// cut, as with the buffer. Windows are unmapped one slide late, so a span a caller keeps a read too long sees
/// stale bytes (as with the buffer), not unmapped memory.
/// </remarks>
internal sealed unsafe class CaptureInput : IDisposable
{
    private const int ChunkSize = 256 * 1024;
    private const int InitialBufferSize = 1024 * 1024;
    /// <summary>How much of a mapped file is mapped at once (bounds the address space and the resident pages).</summary>
    internal const int DefaultMapWindowSize = 8 * 1024 * 1024;
    private readonly int _mapWindowSize;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buffer = [];
    private GCHandle _pin;     // _buffer, pinned while it is the source
    private byte* _data;       // the bytes: the pinned _buffer, or the current mapped window
    private int _pos;          // next unread byte at _data
    private int _end;          // end of valid data at _data
    private long _bufferBase;  // stream offset of _data[0]
    private bool _eof;

    private LeasedFileMap? _map;
    private long _mapStart;    // file offset of stream offset 0
    private long _mapLength;   // stream bytes the mapping covers (the file cannot change length under the lease)
    private long _prefetched;  // offset from _data up to which the window has been prefetched

    private readonly string _path;

    /// <param name="map">Map the file into memory when <paramref name="stream"/> is a seekable file (see the remarks).</param>
    /// <param name="mapWindowSize">How much of the file is mapped at once (smaller in tests, to slide often).</param>
    public CaptureInput(Stream stream, string path, bool leaveOpen, int initialSize = InitialBufferSize, bool map = false,
        int mapWindowSize = DefaultMapWindowSize)
    {
        _stream = stream;
        _mapWindowSize = Math.Max(mapWindowSize, 1);
        _path = path;
        _leaveOpen = leaveOpen;
        if (!(map && TryMap()))
            UseBuffer(ArrayPool<byte>.Shared.Rent(initialSize));
    }

    /// <summary>True while the bytes come from a memory mapping of the file (rather than the stream).</summary>
    public bool IsMapped => _map is not null;

    /// <summary>True once the mapping was detached from the file (its lease is being broken) and not yet left.</summary>
    public bool IsMappingDetached => _map?.IsDetached ?? false;

    /// <summary>Offset of the next unread byte in the (decompressed) stream.</summary>
    public long Position => _bufferBase + _pos;

    /// <summary>Bytes buffered and not yet consumed.</summary>
    public int Available => _end - _pos;

    /// <summary>True when the stream is exhausted and every buffered byte has been consumed.</summary>
    public bool AtEnd => _pos == _end && (_eof || !Fill(1));

    /// <summary>
    /// Makes sure at least <paramref name="count"/> bytes are buffered from <see cref="Position"/>.
    /// Returns false when the stream ends first (then <see cref="Available"/> tells how many there were).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Ensure(int count)
    {
        if (_end - _pos >= count)
            return true;
        return Fill(count);
    }

    private bool TryMap()
    {
        if (_stream is not FileStream file || !file.CanSeek)
            return false;
        long start, length;
        try
        {
            start = file.Position;
            length = file.Length - start;
        }
        catch (Exception e) when (e is IOException or NotSupportedException)
        {
            return false;
        }
        if (length <= 0 || (_map = LeasedFileMap.TryOpen(file)) is null)
            return false;
        _mapStart = start;
        _mapLength = length;
        if (MapWindow(0, 1))
            return true;
        _map.Dispose();
        _map = null;
        return false;
    }

    /// <summary>
    /// Maps the window that starts at stream offset <paramref name="offset"/> and holds at least
    /// <paramref name="count"/> bytes; false when the mapping has ended (the lease is being broken).
    /// </summary>
    private bool MapWindow(long offset, int count)
    {
        long size = Math.Min(Math.Max((long)_mapWindowSize, count), _mapLength - offset);
        byte* start = _map!.TryMapWindow(_mapStart + offset, size);
        if (start is null)
            return false;
        _data = start;
        _prefetched = 0;
        _bufferBase = offset;
        _pos = 0;
        _end = (int)size;
        return true;
    }

    /// <summary>
    /// The mapping has ended (used up, or given back): the window's unread bytes go to a buffer, and reading goes on
    /// from the stream right after the window.
    /// </summary>
    private void LeaveMapping(int count)
    {
        int unread = _end - _pos;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(InitialBufferSize, Math.Max(count, unread) + ChunkSize));
        new ReadOnlySpan<byte>(_data + _pos, unread).CopyTo(buffer);
        long position = _bufferBase + _pos;
        long windowEnd = _bufferBase + _end;
        _map!.Dispose();
        _map = null;
        UseBuffer(buffer);
        _bufferBase = position;
        _end = unread;
        _stream.Position = _mapStart + windowEnd;
    }

    private void UseBuffer(byte[] buffer)
    {
        if (_pin.IsAllocated)
            _pin.Free();
        _buffer = buffer;
        _pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        _data = (byte*)_pin.AddrOfPinnedObject();
        _pos = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per read of the file: never tiered (see ConnTracker.Process)
    private bool Fill(int count)
    {
        if (_map is not null)
        {
            long offset = _bufferBase + _pos;
            if (_mapLength - offset >= count && MapWindow(offset, count))
                return true;
            LeaveMapping(count);
            if (_end - _pos >= count)
                return true;
        }
        if (_buffer.Length - _pos < count || _buffer.Length - _end < ChunkSize / 4)
            MakeRoom(count);
        while (_end - _pos < count && !_eof)
        {
            int n;
            try
            {
                n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (InvalidDataException e)
            {
                // GZipStream's word for damaged compressed data: the record starting here cannot be read.
                throw new CaptureFormatException(_path, Position, CaptureProblem.Corrupt, $"the compressed data is damaged: {e.Message}");
            }
            if (n <= 0)
                _eof = true;
            else
                _end += n;
        }
        return _end - _pos >= count;
    }

    /// <summary>Moves the unread bytes to the start of the buffer, growing it when a record needs more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per read of the file: never tiered (see ConnTracker.Process)
    private void MakeRoom(int count)
    {
        int unread = _end - _pos;
        int needed = Math.Max(count, unread) + ChunkSize;
        long position = _bufferBase + _pos;
        if (needed > _buffer.Length)
        {
            var old = _buffer;
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
            Buffer.BlockCopy(old, _pos, bigger, 0, unread);
            UseBuffer(bigger);
            ArrayPool<byte>.Shared.Return(old);
        }
        else if (_pos > 0)
        {
            Buffer.BlockCopy(_buffer, _pos, _buffer, 0, unread);
        }
        _bufferBase = position;
        _pos = 0;
        _end = unread;
    }

    /// <summary>The next <paramref name="count"/> bytes; call <see cref="Ensure"/> first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Peek(int count)
    {
        if ((uint)count > (uint)(_end - _pos))
            ThrowOutside();
        return new ReadOnlySpan<byte>(_data + _pos, count);
    }

    /// <summary>Bytes from <paramref name="start"/> (relative to <see cref="Position"/>) of length <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Peek(int start, int count)
    {
        int available = _end - _pos;
        if ((uint)start > (uint)available || (uint)count > (uint)(available - start))
            ThrowOutside();
        return new ReadOnlySpan<byte>(_data + _pos + start, count);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutside() =>
        throw new InvalidOperationException("CaptureInput.Peek beyond the bytes made available by Ensure.");

    /// <summary>Consumes <paramref name="count"/> buffered bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count)
    {
        _pos += count;
        if (_map is not null)
            PrefetchAhead();
    }

    /// <summary>
    /// How far ahead of the reading position a mapped file is pulled into the cache. Records vary in length, so
    /// the hardware prefetcher does not see a pattern in the reads of their headers; without this, each header is
    /// a wait on memory.
    /// </summary>
    private const int PrefetchDistance = 8 * 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchAhead()
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported)
            return;
        long target = Math.Min((long)_pos + PrefetchDistance, _end);
        long at = _prefetched;
        if (at >= target)
            return;
        byte* data = _data;
        do
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch1(data + at);   // to L2: the decoder reads it soon
            at += 64;   // every cache line (every other one, leaving the pairs to the hardware, was slower)
        } while (at < target);
        _prefetched = at;
    }

    /// <summary>
    /// Consumes <paramref name="count"/> bytes without buffering them all (for blocks that are skipped).
    /// Returns false when the stream ends first.
    /// </summary>
    public bool Skip(long count)
    {
        while (count > 0)
        {
            if (_pos == _end && !Fill(1))
                return false;
            int step = (int)Math.Min(count, _end - _pos);
            _pos += step;
            count -= step;
        }
        return true;
    }

    public void Dispose()
    {
        _map?.Dispose();
        _map = null;
        var buffer = _buffer;
        _buffer = [];
        _data = null;
        _pos = _end = 0;
        if (_pin.IsAllocated)
            _pin.Free();
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
        if (!_leaveOpen)
            _stream.Dispose();
    }
}

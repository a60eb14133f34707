using System.Buffers;

namespace ConnTrack.Engine.Capture;

/// <summary>
/// The byte source under a capture reader: reads the stream in large chunks into one pooled buffer and lets
/// the reader look at the next <c>n</c> bytes in place. Spans taken from <see cref="Peek"/> stay valid until
/// the next <see cref="Ensure"/> or <see cref="Skip"/> (which may move or replace the buffer).
/// </summary>
internal sealed class CaptureInput : IDisposable
{
    private const int ChunkSize = 256 * 1024;
    private const int InitialBufferSize = 1024 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buffer;
    private int _pos;          // next unread byte in _buffer
    private int _end;          // end of valid data in _buffer
    private long _bufferBase;  // stream offset of _buffer[0]
    private bool _eof;

    private readonly string _path;

    public CaptureInput(Stream stream, string path, bool leaveOpen, int initialSize = InitialBufferSize)
    {
        _stream = stream;
        _path = path;
        _leaveOpen = leaveOpen;
        _buffer = ArrayPool<byte>.Shared.Rent(initialSize);
    }

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
    public bool Ensure(int count)
    {
        if (_end - _pos >= count)
            return true;
        return Fill(count);
    }

    private bool Fill(int count)
    {
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
    private void MakeRoom(int count)
    {
        int unread = _end - _pos;
        int needed = Math.Max(count, unread) + ChunkSize;
        if (needed > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
            Buffer.BlockCopy(_buffer, _pos, bigger, 0, unread);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        else if (_pos > 0)
        {
            Buffer.BlockCopy(_buffer, _pos, _buffer, 0, unread);
        }
        _bufferBase += _pos;
        _pos = 0;
        _end = unread;
    }

    /// <summary>The next <paramref name="count"/> bytes; call <see cref="Ensure"/> first.</summary>
    public ReadOnlySpan<byte> Peek(int count) => new(_buffer, _pos, count);

    /// <summary>Bytes from <paramref name="start"/> (relative to <see cref="Position"/>) of length <paramref name="count"/>.</summary>
    public ReadOnlySpan<byte> Peek(int start, int count) => new(_buffer, _pos + start, count);

    /// <summary>Consumes <paramref name="count"/> buffered bytes.</summary>
    public void Advance(int count) => _pos += count;

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
        var buffer = _buffer;
        _buffer = [];
        _pos = _end = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
        if (!_leaveOpen)
            _stream.Dispose();
    }
}

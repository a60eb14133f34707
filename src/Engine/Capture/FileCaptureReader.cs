namespace ConnTrack.Engine.Capture;

/// <summary>
/// The common part of the file readers: the pooled chunked input, progress in file bytes (compressed bytes for
/// gzip), and disposal of the file.
/// </summary>
public abstract class FileCaptureReader : CaptureReader
{
    private readonly Stream? _fileStream;
    private readonly long _fileStart;
    private readonly bool _compressed;

    private protected FileCaptureReader(CaptureInput input, CaptureSource source)
    {
        Input = input;
        FilePath = source.Path;
        _fileStream = source.FileStream;
        _fileStart = source.FileStart;
        _compressed = source.Compressed;
        FileLength = source.FileLength;
    }

    private protected CaptureInput Input { get; }

    /// <summary>True while the file is read through a memory mapping (see <see cref="CaptureInput"/>).</summary>
    internal bool IsMapped => Input.IsMapped;

    /// <summary>True once the mapping was detached from the file (another program wants to write it) and not yet left.</summary>
    internal bool IsMappingDetached => Input.IsMappingDetached;

    /// <summary>True when the file was gzip-compressed.</summary>
    public bool IsCompressed => _compressed;

    /// <summary>Bytes consumed so far from the underlying file (compressed bytes for gzip), for progress.</summary>
    public override long BytesRead
    {
        get
        {
            if (!_compressed || _fileStream is null)
                return Input.Position;
            try
            {
                return _fileStream.Position - _fileStart;
            }
            catch (ObjectDisposedException)
            {
                return FileLength ?? 0;
            }
        }
    }

    /// <summary>The size of the underlying file in bytes, when known.</summary>
    public override long? FileLength { get; }

    /// <summary>The offset (in the decompressed stream) of the next byte to read.</summary>
    public long Position => Input.Position;

    public sealed override void Dispose()
    {
        Input.Dispose();
        GC.SuppressFinalize(this);
    }
}

using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine;

/// <summary>
/// Reads one capture file into a runner on another thread (one of its own, or a <see cref="ReadThread"/> that
/// reads a trace's files one after another) and hands the finished records over in chunks, in their order. A caller
/// whose records cost it work of its own (PowerShell binds each object to the next command) then does that work on
/// another core while the engine goes on tracking.
/// <para>
/// The runner belongs to the read's thread until the read has ended and <see cref="Dispose"/> has waited for it: the
/// caller must not use the runner (or the reader) meanwhile, except to read its counters for progress, which
/// then give a moment's view.
/// </para>
/// </summary>
public sealed class BackgroundFileRead : IDisposable
{
    /// <summary>Records per chunk handed over (a chunk goes sooner when the file ends or a stretch of it gave few).</summary>
    public const int ChunkSize = 256;
    /// <summary>Chunks waiting at most; then the read waits for the caller (so a slow consumer bounds the memory held).</summary>
    public const int MaxChunksWaiting = 64;
    /// <summary>Packets read after which a part-filled chunk is handed over anyway (a stretch where few connections end).</summary>
    private const long PacketsPerFlush = 1 << 16;

    private readonly ITraceRunner _runner;
    private readonly CaptureReader _reader;
    private readonly int _chunkSize;
    private readonly BlockingCollection<List<ConnRecord>> _chunks;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Thread? _thread;       // a thread of its own, or null when it runs on a ReadThread or ran inline
    private readonly ReadThread? _onThread;

    /// <summary>
    /// Files smaller than this are read at once on the caller's thread, when the read is made: for them the hand-over
    /// between two threads costs more than the overlap gains (a few hundred packets; handing over and waking up take
    /// a good part of a millisecond on a VM). Their records then wait in the hand-over, unbounded.
    /// </summary>
    public const long InlineBelow = 1 << 20;
    private ExceptionDispatchInfo? _error;
    private bool _disposed;

    /// <summary>
    /// Starts reading <paramref name="reader"/> into <paramref name="runner"/> at once, on <paramref name="thread"/>
    /// (idle: the read before it there has been disposed), or on a thread of its own.
    /// </summary>
    public BackgroundFileRead(ITraceRunner runner, CaptureReader reader, ReadThread? thread = null)
        : this(runner, reader, ChunkSize, MaxChunksWaiting, thread) { }

    /// <summary>
    /// With other chunk sizes (tests make the hand-over fill up with few records) and another size below which a file
    /// is read inline (0: never; tests read small files on the other thread).
    /// </summary>
    internal BackgroundFileRead(ITraceRunner runner, CaptureReader reader, int chunkSize, int maxChunksWaiting,
        ReadThread? thread = null, long inlineBelow = InlineBelow)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunksWaiting, 1);
        _runner = runner;
        _reader = reader;
        _chunkSize = chunkSize;
        if (reader.FileLength is long length && length < inlineBelow)
        {
            _chunks = new BlockingCollection<List<ConnRecord>>();
            Run();
            return;
        }
        _chunks = new BlockingCollection<List<ConnRecord>>(maxChunksWaiting);
        if (thread is not null)
        {
            _onThread = thread;
            thread.Run(Run);
        }
        else
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "ConnTrack read" };
            _thread.Start();
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the next chunk of records. True with a chunk, or with null once
    /// the read has ended and every chunk was taken (<see cref="Error"/> then says why it ended); false when the
    /// time ran out or <paramref name="cancel"/> was set first.
    /// </summary>
    public bool TryTake(TimeSpan timeout, CancellationToken cancel, out List<ConnRecord>? chunk)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            if (_chunks.TryTake(out chunk, (int)timeout.TotalMilliseconds, cancel))
                return true;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            chunk = null;
            return false;
        }
        // Ended, every chunk taken.
        if (_chunks.IsCompleted)
            return true;
        return false;
    }

    /// <summary>
    /// What ended the read early, once <see cref="TryTake"/> has given null: a damaged file
    /// (<see cref="CaptureFormatException"/>), an I/O error, a filter that cannot take the link type, or a bug;
    /// null when the file was read to its end. The packets before it are tracked and their records were handed over.
    /// </summary>
    public ExceptionDispatchInfo? Error => _chunks.IsCompleted ? _error : null;

    /// <summary>Stops the read if it still runs (after the batch in hand) and waits for its thread to end.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _cancel.Cancel();
        if (_thread is not null) _thread.Join();
        else _onThread?.WaitIdle();
        _chunks.Dispose();
        _cancel.Dispose();
    }

    private void Run()
    {
        var token = _cancel.Token;
        _chunk = new List<ConnRecord>(_chunkSize);
        try
        {
            try
            {
                long flushAt = _runner.PacketsRead + PacketsPerFlush;
                bool more = true;
                while (more && !token.IsCancellationRequested)
                {
                    more = _runner.ProcessNextBatch(_reader);
                    while (_runner.TryTakeFinished(out var record))
                        Add(record, token);
                    if (_runner.PacketsRead >= flushAt)
                    {
                        if (_chunk.Count > 0)
                            Flush(token);
                        flushAt = _runner.PacketsRead + PacketsPerFlush;
                    }
                }
                if (!more)
                {
                    foreach (var record in _runner.TakeFinished()) // the sharded runner's batches still in flight
                        Add(record, token);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                // Thrown to nobody here: the caller learns of it once it has taken the records before it, which
                // still go out (ProcessNextBatch tracked the packets before the failure).
                _error = ExceptionDispatchInfo.Capture(e);
                foreach (var record in TakeFinishedAfterFailure())
                    Add(record, token);
            }
            if (_chunk.Count > 0)
                Flush(token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped by Dispose: nobody takes the rest.
        }
        finally
        {
            _chunks.CompleteAdding();
        }
    }

    private List<ConnRecord> _chunk = null!; // the chunk being filled (the read's thread only)

    private void Add(ConnRecord record, CancellationToken token)
    {
        _chunk.Add(record);
        if (_chunk.Count == _chunkSize)
            Flush(token);
    }

    private void Flush(CancellationToken token)
    {
        _chunks.Add(_chunk, token);
        _chunk = new List<ConnRecord>(_chunkSize);
    }

    private List<ConnRecord> TakeFinishedAfterFailure()
    {
        try
        {
            return _runner.TakeFinished().ToList();
        }
        catch (Exception)
        {
            return []; // a shard that failed as well: the first error is the one reported
        }
    }
}

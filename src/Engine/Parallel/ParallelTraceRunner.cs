using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Parallel;

/// <summary>
/// The engine on several cores (Retina's model): the caller's thread reads, filters and decodes every frame
/// (fragment reassembly and the BPF filter stay here), and a symmetric flow hash (<see cref="ShardHash"/>)
/// assigns each packet to a shard. Each shard is a <see cref="Tracking.ConnTracker"/> owned by one worker thread.
/// <para>
/// Decoded packets go over in batches through a small ring of pooled slots. Every worker reads every batch:
/// it tracks the packets of its shard and, for the others, only moves its clock to their time. So each shard's
/// timers fire at exactly the packet times they fire at in the single-thread run, and the records are the same
/// (see <see cref="ConnTraceRunner"/>), except:
/// uids: each shard draws from its own <see cref="UidGenerator"/> (shard 0 uses <see cref="ConnTrackOptions.UidSeed"/>,
/// shard i a seed derived from it), so uids differ from the single-thread run unless there is one shard;
/// <see cref="ConnTrackOptions.MaxConnections"/> is divided among the shards (a shard is full at its share);
/// <see cref="ConnTrackOptions.MaxTimerExpires"/> applies per shard (it only matters when more timers than that
/// come due at one packet time).
/// </para>
/// <para>
/// Records come back to the caller's thread in packet order (those ending at the same packet in shard order),
/// a batch's records once every shard is done with it. The workers run while <see cref="ReadFile"/> reads and
/// stop when it ends, however it ends (end of file, a capture error, or the enumerator disposed early).
/// Like <see cref="ConnTraceRunner"/>, one thread at a time uses a runner.
/// </para>
/// </summary>
public sealed class ParallelTraceRunner : ITraceRunner
{
    /// <summary>Packets per batch when not given.</summary>
    public const int DefaultBatchSize = 1024;
    /// <summary>
    /// Batches in flight at most when not given. Measured on 2 cores (one reader and two workers sharing them):
    /// a deep ring lets the three threads run in bursts without waiting on each other, and the deeper it is, the
    /// longer ago the workers read a slot the reader fills again, and the less the reader's writes wait for those
    /// cache lines to come back from the other core. 128 against 32: 1.67 against 1.81 s, faster in 6 rounds of 6
    /// (bench/README.md, 2026-12-04). 128 x 1024 packets is about 20 MB of pooled summaries (each shard's apart, with
    /// some room for unevenness), made as first used.
    /// </summary>
    public const int DefaultRingSize = 128;

    private readonly PacketDecoder _decoder;
    private readonly BpfFilter? _filter;
    private readonly ShardWorker[] _workers;
    private readonly Queue<ConnRecord> _ready = new();
    private readonly SemaphoreSlim _batchDone = new(0);
    private readonly int[] _mergeHeads;

    private long _published;   // batches handed to the workers
    private long _collected;   // batches whose records have been taken back
    private PacketBatch _filling;
    private bool _workersRunning;
    private ExceptionDispatchInfo? _workerError;
    private bool _disposed;

    /// <param name="options">The engine options (shared by every shard, as <see cref="ConnTraceRunner"/> takes them).</param>
    /// <param name="shards">
    /// Shard (worker thread) count, 1 to 255; 0 means one per core but the one kept for reading
    /// (<see cref="TraceThreads.TrackingThreads"/> of <see cref="Environment.ProcessorCount"/>), as Read-ConnTrace
    /// chooses: on 2 cores one shard, whose records are the single-thread runner's, uids and order included. One shard
    /// and two measured alike there (5M packets, 6 interleaved rounds: 1.391 and 1.395 s).
    /// </param>
    /// <param name="batchSize">Packets per hand-over batch.</param>
    /// <param name="ringSize">Batches in flight at most (the reader waits for the oldest beyond this).</param>
    public ParallelTraceRunner(ConnTrackOptions options, int shards = 0, int batchSize = DefaultBatchSize, int ringSize = DefaultRingSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (shards == 0) shards = Math.Min(TraceThreads.TrackingThreads(Math.Max(1, Environment.ProcessorCount)), PacketBatch.TickShard);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shards, PacketBatch.TickShard);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ringSize, 2);

        Options = options;
        Weirds = new WeirdCounters();
        _decoder = new PacketDecoder(!options.IgnoreChecksums, Weirds);
        if (!string.IsNullOrWhiteSpace(options.CaptureFilter))
        {
            // Compiled now so a bad expression or a missing libpcap is reported before any file is read.
            _filter = new BpfFilter(options.CaptureFilter);
            _filter.Prepare(LinkType.Ethernet);
        }

        _workers = new ShardWorker[shards];
        for (int i = 0; i < shards; i++)
            _workers[i] = new ShardWorker(this, i, ShardOptions(options, i, shards));
        // Slots are made as the reader first reaches them, so a short trace does not pay for the whole ring.
        Ring = new PacketBatch[ringSize];
        _filling = Ring[0] = new PacketBatch(batchSize, shards);
        _mergeHeads = new int[shards];
    }

    /// <summary>A shard's options: its own uid seed and its share of the connection cap.</summary>
    private static ConnTrackOptions ShardOptions(ConnTrackOptions options, int shard, int shards)
    {
        if (shards == 1) return options;
        var copy = options.Clone();
        copy.UidSeed = ShardUidSeed(options.UidSeed, shard);
        copy.MaxConnections = (int)Math.Max(1, ((long)options.MaxConnections + shards - 1) / shards);
        return copy;
    }

    /// <summary>The uid seed of a shard: the configured seed for shard 0, a distinct one derived from it for the others.</summary>
    public static ulong ShardUidSeed(ulong seed, int shard) => shard == 0 ? seed : seed ^ ((ulong)shard * 0x9E3779B97F4A7C15UL);

    public ConnTrackOptions Options { get; }
    public WeirdCounters Weirds { get; }

    /// <summary>The number of shards (worker threads while reading).</summary>
    public int ShardCount => _workers.Length;

    /// <summary>Packets read from all files so far.</summary>
    public long PacketsRead { get; private set; }
    /// <summary>Records handed out so far.</summary>
    public long ConnectionsFinished { get; private set; }

    /// <summary>Connections tracked over all shards (exact between reads; a moment's view while reading).</summary>
    public int OpenConnections
    {
        get
        {
            int n = 0;
            foreach (var w in _workers) n += w.Tracker.OpenConnections;
            return n;
        }
    }

    /// <summary>New connections not tracked because a shard was full.</summary>
    public long DroppedForCapacity
    {
        get
        {
            long n = 0;
            foreach (var w in _workers) n += w.Tracker.DroppedForCapacity;
            return n;
        }
    }

    /// <summary>Worker threads alive now (0 whenever no read is under way).</summary>
    public int RunningWorkers
    {
        get
        {
            int n = 0;
            foreach (var w in _workers) if (w.IsRunning) n++;
            return n;
        }
    }

    /// <summary>The reader of the file being read now (for progress: BytesRead, FileLength), or null.</summary>
    public CaptureReader? CurrentReader { get; private set; }

    /// <summary>The hand-over ring; a slot is null until the reader first reaches it.</summary>
    internal PacketBatch?[] Ring { get; }

    /// <summary>
    /// Reads one capture file as the next part of the trace, yielding records as connections end (a little
    /// later than the single-thread runner: a batch's records come once every shard is done with it).
    /// A truncated or corrupt file throws <see cref="CaptureFormatException"/> after every record before the
    /// problem; the connections still open stay tracked, so the trace can go on with the next file.
    /// Disposing the enumerator early closes the file and stops the workers (the packets already read are tracked).
    /// </summary>
    public IEnumerable<ConnRecord> ReadFile(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfWorkerFailed();
        using var reader = CaptureReader.Open(path, Options.MemoryMapFiles);
        CurrentReader = reader;
        try
        {
            ExceptionDispatchInfo? error;
            bool more;
            do
            {
                more = Pump(reader, out error);
                while (_ready.Count > 0)
                    yield return Hand(_ready.Dequeue());
            } while (more);

            Drain();
            while (_ready.Count > 0)
                yield return Hand(_ready.Dequeue());
            error?.Throw();
        }
        finally
        {
            CurrentReader = null;
            try
            {
                Drain();
            }
            finally
            {
                StopWorkers();
            }
        }
    }

    /// <summary>Reads and hands on up to 64 frames of <paramref name="reader"/>; false once it is at its end.</summary>
    public bool ProcessNextBatch(CaptureReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        for (int i = 0; i < 64; i++)
        {
            if (!reader.TryReadNext(out var frame))
                return false;
            ProcessFrame(frame);
        }
        return true;
    }

    /// <summary>
    /// Feeds one frame (live capture or a caller's own source). Frames are tracked in batches: call
    /// <see cref="TakeFinished"/> to have everything fed so far tracked and its records returned.
    /// </summary>
    public void ProcessFrame(in RawFrame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (AddFrame(frame))
            Publish();
    }

    /// <summary>Moves every shard's clock on without a packet (live capture when the wire is quiet).</summary>
    public void AdvanceTime(long now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var b = _filling;
        b.Times[b.Count] = now;
        b.Shards[b.Count] = PacketBatch.TickShard;
        b.Count++;
        if (b.IsFull)
            Publish();
    }

    /// <summary>
    /// Tracks everything fed so far and returns the records finished and not yet taken. The workers are stopped
    /// afterwards (they start again with the next batch).
    /// </summary>
    public IEnumerable<ConnRecord> TakeFinished()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            Drain();
        }
        finally
        {
            StopWorkers();
        }
        var list = new List<ConnRecord>(_ready.Count);
        while (_ready.Count > 0)
            list.Add(Hand(_ready.Dequeue()));
        return list;
    }

    /// <summary>
    /// Takes one finished record if one is ready, without waiting (for callers that feed frames one by one):
    /// a batch's records are ready once every shard is done with it. The workers keep running.
    /// </summary>
    public bool TryTakeFinished([NotNullWhen(true)] out ConnRecord? record)
    {
        if (_ready.Count == 0 && !_disposed)
            CollectCompleted(wait: false);
        if (_ready.TryDequeue(out record))
        {
            Hand(record);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Ends the trace: everything fed so far is tracked, then every shard's open connections are flushed,
    /// ordered by start time as the single-thread runner orders them.
    /// </summary>
    /// <remarks>Lazy, as <see cref="ConnTraceRunner.Finish"/>: the flush happens when the result is enumerated.</remarks>
    public IEnumerable<ConnRecord> Finish()
    {
        foreach (var record in FinishNow())
            yield return record;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs over every open connection at once: never tiered (see ConnTracker.Process)
    private List<ConnRecord> FinishNow()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pending = TakeFinished();
        var list = new List<ConnRecord>(pending);
        var perShard = FlushShards();
        // Each shard's flush is in start order; merged by start time, the lower shard first for equal times
        // (the order of a stable sort of the shards' lists one after another).
        var heads = new int[perShard.Length];
        while (true)
        {
            int best = -1;
            long bestTs = long.MaxValue;
            for (int s = 0; s < perShard.Length; s++)
            {
                if (heads[s] < perShard[s].Count && (best < 0 || perShard[s][heads[s]].Ts < bestTs))
                {
                    best = s;
                    bestTs = perShard[s][heads[s]].Ts;
                }
            }
            if (best < 0) break;
            list.Add(Hand(perShard[best][heads[best]++]));
        }
        return list;
    }

    /// <summary>
    /// Flushes every shard's open connections, the shards at the same time (shard 0 on the caller's thread, each
    /// other one on a thread of its own: building the records of the connections still open is a sizeable part
    /// of a trace's end). Returns each shard's records in start order.
    /// </summary>
    private List<ConnRecord>[] FlushShards()
    {
        var results = new List<ConnRecord>[_workers.Length];
        if (_workers.Length == 1)
        {
            results[0] = _workers[0].Flush();
            return results;
        }
        var threads = new Thread[_workers.Length - 1];
        var errors = new ExceptionDispatchInfo?[_workers.Length];
        for (int i = 1; i < _workers.Length; i++)
        {
            int shard = i;
            threads[i - 1] = new Thread(() =>
            {
                try
                {
                    results[shard] = _workers[shard].Flush();
                }
                catch (Exception e)
                {
                    errors[shard] = ExceptionDispatchInfo.Capture(e);
                }
            }) { IsBackground = true, Name = $"ConnTrack flush {shard}" };
            threads[i - 1].Start();
        }
        try
        {
            results[0] = _workers[0].Flush();
        }
        finally
        {
            foreach (var t in threads)
                t.Join();
        }
        foreach (var e in errors)
            e?.Throw();
        return results;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var w in _workers)
            w.Stop();
        _workersRunning = false;
        _filter?.Dispose();
    }

    // ---- reader side ----

    /// <summary>
    /// Reads frames into the filling batch until one is published (true) or the file ends (false). An error
    /// ends the file too, handed back in <paramref name="error"/> to be thrown once the records before it are out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private bool Pump(CaptureReader reader, out ExceptionDispatchInfo? error)
    {
        error = null;
        try
        {
            while (reader.TryReadNext(out var frame))
            {
                if (AddFrame(frame))
                {
                    Publish();
                    CollectCompleted(wait: false);
                    return true;
                }
            }
        }
        catch (Exception e)
        {
            // Whatever stops the read (a corrupt file, an I/O error, a filter that cannot take a link type)
            // is thrown once the records of the packets before it are out.
            error = ExceptionDispatchInfo.Capture(e);
        }
        return false;
    }

    /// <summary>Filters and decodes a frame into the filling batch; true when the batch is now full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first packet (a single pass never waits for tiering)
    private bool AddFrame(in RawFrame frame)
    {
        PacketsRead++;
        if (_filter is not null && !_filter.Matches(frame))
            return false;
        // Decoded on the stack, then copied to its shard's summaries (the shard is known only once it is decoded).
        if (_decoder.Decode(frame, out var summary) != DecodeStatus.Ok)
            return false;
        var b = _filling;
        b.Add(ShardHash.ShardOf(summary, _workers.Length), summary);
        return b.IsFull;
    }

    /// <summary>Hands the filling batch to every worker and moves on to the next free slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per batch: never tiered (see ConnTracker.Process)
    private void Publish()
    {
        var b = _filling;
        if (b.Count == 0) return;
        ThrowIfWorkerFailed();
        if (!_workersRunning)
        {
            foreach (var w in _workers)
                w.Start(_published);
            _workersRunning = true;
        }
        b.Pending = _workers.Length;
        _published++;
        foreach (var w in _workers)
            w.Signal();

        // The next slot is free once its previous batch has been collected; wait for it if the ring is full.
        while (_published - _collected >= Ring.Length)
            CollectCompleted(wait: true);
        _filling = Ring[_published % Ring.Length] ??= new PacketBatch(_filling.Capacity, _workers.Length);
    }

    /// <summary>Takes the records of the oldest batches every worker is done with (with <paramref name="wait"/>, at least one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per batch: never tiered (see ConnTracker.Process)
    private void CollectCompleted(bool wait)
    {
        while (_collected < _published)
        {
            var b = Ring[_collected % Ring.Length]!; // published, so made
            if (!wait && Volatile.Read(ref b.Pending) != 0)
                break;
            _batchDone.Wait(); // batches complete in ring order: this one's signal
            ThrowIfWorkerFailed();
            Merge(b);
            b.Clear();
            _collected++;
            wait = false;
        }
    }

    /// <summary>Publishes the partial batch and waits for every batch in flight, taking their records.</summary>
    private void Drain()
    {
        if (_disposed) return; // an enumerator disposed after the runner: nothing to finish
        Publish();
        while (_collected < _published)
            CollectCompleted(wait: true);
    }

    private void StopWorkers()
    {
        if (!_workersRunning) return;
        foreach (var w in _workers)
            w.Stop();
        _workersRunning = false;
    }

    /// <summary>Moves a batch's records to the ready queue in entry order (shard order within an entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per batch: never tiered (see ConnTracker.Process)
    private void Merge(PacketBatch b)
    {
        var outputs = b.Output;
        var heads = _mergeHeads;
        Array.Clear(heads);
        while (true)
        {
            int best = -1, bestIndex = int.MaxValue;
            for (int s = 0; s < outputs.Length; s++)
            {
                var list = outputs[s];
                if (heads[s] < list.Count && list[heads[s]].Index < bestIndex)
                {
                    best = s;
                    bestIndex = list[heads[s]].Index;
                }
            }
            if (best < 0) break;
            _ready.Enqueue(outputs[best][heads[best]++].Record);
        }
        foreach (var list in outputs)
            list.Clear();
    }

    // ---- called by the workers ----

    internal void BatchDone() => _batchDone.Release();

    internal void Fail(ExceptionDispatchInfo error) => Interlocked.CompareExchange(ref _workerError, error, null);

    private void ThrowIfWorkerFailed() => Volatile.Read(ref _workerError)?.Throw();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    private ConnRecord Hand(ConnRecord record)
    {
        ConnectionsFinished++;
        return record;
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.Intrinsics.X86;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;

namespace ConnTrack.Engine.Parallel;

/// <summary>
/// One shard: a <see cref="ConnTracker"/> of its own and, while the runner reads, a thread that takes the
/// batches in ring order. The tracker outlives the thread (a trace goes on across files), so the thread is
/// started and stopped by the runner around each stretch of reading.
/// </summary>
internal sealed class ShardWorker : IConnSink
{
    private readonly ParallelTraceRunner _runner;
    private readonly SemaphoreSlim _ready = new(0);
    private Thread? _thread;
    private volatile bool _stop;
    private long _consumed;
    private bool _failed;

    // Where the tracker's records go now: a batch's output for this shard, with the entry being handled.
    private List<EmittedRecord>? _output;
    private int _index;

    public ShardWorker(ParallelTraceRunner runner, int id, ConnTrackOptions options)
    {
        _runner = runner;
        Id = id;
        Tracker = new ConnTracker(options, this);
    }

    public int Id { get; }
    public ConnTracker Tracker { get; }
    public bool IsRunning => _thread is { IsAlive: true };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    void IConnSink.Write(ConnRecord record)
    {
        // Outside a batch (Finish's flush, with the worker thread stopped) the records go to the flush's list.
        if (_output is null) (_flushed ??= new List<ConnRecord>()).Add(record);
        else _output.Add(new EmittedRecord(_index, record));
    }

    private List<ConnRecord>? _flushed;

    /// <summary>Flushes the shard's open connections (in start order) and returns their records; the worker thread is stopped.</summary>
    public List<ConnRecord> Flush()
    {
        _flushed = new List<ConnRecord>(Tracker.OpenConnections);
        Tracker.FlushAll();
        var flushed = _flushed;
        _flushed = null;
        return flushed;
    }

    /// <summary>Starts the thread; it takes batches from ring position <paramref name="position"/> on.</summary>
    public void Start(long position)
    {
        _stop = false;
        _consumed = position;
        _thread = new Thread(Run) { IsBackground = true, Name = $"ConnTrack shard {Id}" };
        _thread.Start();
    }

    /// <summary>A batch was published: take the next one.</summary>
    public void Signal() => _ready.Release();

    /// <summary>Stops the thread once it has taken every batch signalled before (or at once, if it waits) and joins it.</summary>
    public void Stop()
    {
        var thread = _thread;
        if (thread is null) return;
        _stop = true;
        _ready.Release();
        thread.Join();
        _thread = null;
        // A stop signal left untaken (the thread ended on a batch signal first) must not count as a batch later.
        while (_ready.CurrentCount > 0 && _ready.Wait(0)) { }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the worker loop: optimised from the first batch
    private void Run()
    {
        var ring = _runner.Ring;
        while (true)
        {
            _ready.Wait();
            if (_stop) return;
            var batch = ring[_consumed % ring.Length]!; // published, so made
            _consumed++;
            if (!_failed)
            {
                try
                {
                    Track(batch);
                }
                catch (Exception e)
                {
                    // Never leave the reader waiting: report, and only count batches from now on.
                    _failed = true;
                    _output = null;
                    _runner.Fail(ExceptionDispatchInfo.Capture(e));
                }
            }
            if (Interlocked.Decrement(ref batch.Pending) == 0)
                _runner.BatchDone();
        }
    }

    /// <summary>Entries looked ahead at a time: their connections are prefetched together, as the one-thread runner does.</summary>
    private const int Window = ConnTracker.LookAheadMax;
    private readonly int[] _own = new int[Window];   // the window's packets of this shard (indexes into its own summaries)
    private readonly int[] _hints = new int[Window]; // PrefetchConnections' hints for them (0: none)

    /// <summary>
    /// Asks for this shard's next window of summaries, and the times and shards of the window after: the reader wrote
    /// them on the other core, so each is a miss, and looked up one by one they would not overlap (perf, 3 warm passes on
    /// two shards: the first reads of a summary, in <c>KeyOf</c>, 4.2% of the workers' samples before, 2.2% after, this
    /// 1.5%; 10 alternating passes, faster in 8 and 7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchAhead(PacketSummary[] packets, int ownFrom, int ownCount, long[] times, byte[] shards, int from, int n)
    {
        if (!Sse.IsSupported) return;
        int ownTo = Math.Min(ownCount, ownFrom + Window);
        if (ownFrom < ownTo)
        {
            byte* at = (byte*)Unsafe.AsPointer(ref packets[ownFrom]);
            byte* last = (byte*)Unsafe.AsPointer(ref packets[ownTo - 1]) + Unsafe.SizeOf<PacketSummary>() - 1;
            for (; at <= last; at += 64)
                Sse.Prefetch0(at);
        }
        int next = from + Window;
        if (next < n)
        {
            int lastTime = Math.Min(n, next + Window) - 1;
            for (int j = next; j <= lastTime; j += 8)
                Sse.Prefetch0(Unsafe.AsPointer(ref times[j]));
            Sse.Prefetch0(Unsafe.AsPointer(ref shards[next]));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first batch (a single pass never waits for tiering)
    private void Track(PacketBatch batch)
    {
        var packets = batch.Packets[Id];
        int ownCount = batch.ShardCounts[Id];
        var times = batch.Times;
        var shards = batch.Shards;
        var own = _own;
        var hints = _hints;
        int n = batch.Count;
        byte me = (byte)Id;
        var tracker = Tracker;
        _output = batch.Output[Id];
        int k = 0; // this shard's next summary
        for (int start = 0; start < n; start += Window)
        {
            int end = Math.Min(n, start + Window);
            // Look this window's own packets up first so their cache misses overlap (a hint only saves a
            // lookup: Process checks it is still the table's connection for the packet's key).
            int owned = 0;
            for (int i = start; i < end; i++)
            {
                if (shards[i] == me)
                {
                    own[owned] = k + owned;
                    owned++;
                }
            }
            PrefetchAhead(packets, k + owned, ownCount, times, shards, end, n);
            tracker.PrefetchConnections(packets, own.AsSpan(0, owned), hints);
            int next = 0;
            for (int i = start; i < end; i++)
            {
                _index = i;
                if (shards[i] == me)
                {
                    tracker.ProcessLookedAhead(packets[k + next], next, hints[next]);
                    next++;
                }
                else
                    tracker.AdvanceTime(times[i]); // another shard's packet (or a tick): its time still drives our timers
            }
            k += owned;
        }
        _output = null;
    }
}

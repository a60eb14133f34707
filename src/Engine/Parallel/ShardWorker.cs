using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;

namespace ConnTrack.Engine.Parallel;

/// <summary>
/// One shard: a <see cref="ConnTracker"/> of its own and how far it has tracked the ring. Any thread may track
/// a shard's next batch while it holds the shard's claim (<see cref="TryClaim"/>): a shard is tracked by one
/// thread at a time, batch after batch in ring order, and the claim's interlocked hand-over orders one thread's
/// work before the next one's. The tracker outlives the reading (a trace goes on across files).
/// </summary>
internal sealed class ShardWorker : IConnSink
{
    private readonly ParallelTraceRunner _runner;
    private int _claimed;
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

    void IConnSink.Write(ConnRecord record)
    {
        // Outside a batch (Finish's flush, with no reading under way) the records go to the flush's list.
        if (_output is null) (_flushed ??= new List<ConnRecord>()).Add(record);
        else _output.Add(new EmittedRecord(_index, record));
    }

    private List<ConnRecord>? _flushed;

    /// <summary>Flushes the shard's open connections (in start order) and returns their records; no reading is under way.</summary>
    public List<ConnRecord> Flush()
    {
        _flushed = new List<ConnRecord>(Tracker.OpenConnections);
        Tracker.FlushAll();
        var flushed = _flushed;
        _flushed = null;
        return flushed;
    }

    /// <summary>Batches tracked so far (the ring position of the next one).</summary>
    public long Consumed => Volatile.Read(ref _consumed);

    /// <summary>Sets where the shard goes on in the ring (no thread is tracking it).</summary>
    public void ResetPosition(long position) => Volatile.Write(ref _consumed, position);

    /// <summary>Takes the shard for tracking: false when another thread has it.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _claimed, 1, 0) == 0;

    public void Unclaim() => Volatile.Write(ref _claimed, 0);

    /// <summary>Tracks the next batch of the ring (published; the caller holds the claim) and counts it done for the shard.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the worker loop: optimised from the first batch
    public void TrackNext()
    {
        var ring = _runner.Ring;
        long position = _consumed;
        var batch = ring[position % ring.Length];
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
        Volatile.Write(ref _consumed, position + 1);
        if (Interlocked.Decrement(ref batch.Pending) == 0)
            _runner.BatchDone();
    }

    /// <summary>Entries looked ahead at a time: their connections are prefetched together, as the one-thread runner does.</summary>
    private const int Window = 32;
    private readonly Connection?[] _hints = new Connection?[Window];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: optimised from the first batch (a single pass never waits for tiering)
    private void Track(PacketBatch batch)
    {
        var packets = batch.Packets;
        var times = batch.Times;
        var shards = batch.Shards;
        var hints = _hints;
        int n = batch.Count;
        byte me = (byte)Id;
        var tracker = Tracker;
        _output = batch.Output[Id];
        for (int start = 0; start < n; start += Window)
        {
            int end = Math.Min(n, start + Window);
            // Look this window's own packets up first so their cache misses overlap (a hint only saves a
            // lookup: Process checks it is still the table's connection for the packet's key).
            for (int i = start; i < end; i++)
            {
                if (shards[i] == me)
                    hints[i - start] = tracker.PrefetchConnection(packets[i]);
            }
            for (int i = start; i < end; i++)
            {
                _index = i;
                if (shards[i] == me)
                {
                    tracker.Process(packets[i], hints[i - start]);
                    hints[i - start] = null;
                }
                else
                {
                    tracker.AdvanceTime(times[i]); // another shard's packet (or a tick): its time still drives our timers
                }
            }
        }
        _output = null;
    }
}

/// <summary>
/// A worker thread while the runner reads: woken when a batch is published, it tracks whatever shards have
/// batches left and are not taken, until none has.
/// </summary>
internal sealed class WorkerThread
{
    private readonly ParallelTraceRunner _runner;
    private readonly int _index;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private volatile bool _stop;

    public WorkerThread(ParallelTraceRunner runner, int index)
    {
        _runner = runner;
        _index = index;
        _thread = new Thread(Run) { IsBackground = true, Name = $"ConnTrack worker {index}" };
        _thread.Start();
    }

    public bool IsAlive => _thread.IsAlive;

    /// <summary>A batch was published.</summary>
    public void Signal() => _wake.Release();

    /// <summary>Stops the thread once it has done the work it found (or at once, if it waits) and joins it.</summary>
    public void Stop()
    {
        _stop = true;
        _wake.Release();
        _thread.Join();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the worker loop: optimised from the first batch
    private void Run()
    {
        while (true)
        {
            _wake.Wait();
            if (_stop) return;
            while (_runner.TrackAvailable(_index, oneBatch: false)) { }
        }
    }
}

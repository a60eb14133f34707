using System.Runtime.CompilerServices;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Parallel;

/// <summary>A record a shard emitted while handling the packet at <see cref="Index"/> of a batch.</summary>
internal readonly record struct EmittedRecord(int Index, ConnRecord Record);

/// <summary>
/// One slot of the hand-over ring: a run of decoded packets in capture order, read by every shard worker. Each
/// worker reads every entry's time and shard and the summaries of its own shard: it tracks its own packets and only
/// moves its clock on the others, so every shard sees the time of every packet, exactly as the single-thread tracker
/// does. Pooled: the reader refills a slot once every worker is done with it and its records have been taken.
/// </summary>
internal sealed class PacketBatch
{
    /// <summary>The shard number of a pure time tick (no packet): every shard only advances its clock.</summary>
    public const byte TickShard = byte.MaxValue;

    /// <summary>
    /// Each shard's packets, in capture order: shard s's k-th summary is its k-th packet of the batch. Kept apart so
    /// that a worker reads only its own summaries and no cache line is read by two workers.
    /// </summary>
    public readonly PacketSummary[][] Packets;
    /// <summary>How many of <see cref="Packets"/>[s] are filled.</summary>
    public readonly int[] ShardCounts;
    /// <summary>Each entry's packet time (kept apart so a worker skimming other shards' packets reads 8 bytes each).</summary>
    public readonly long[] Times;
    /// <summary>Each entry's shard, or <see cref="TickShard"/>.</summary>
    public readonly byte[] Shards;
    /// <summary>Records emitted per shard while this batch was tracked, in order of their entry.</summary>
    public readonly List<EmittedRecord>[] Output;
    public int Count;
    /// <summary>Workers not yet done with this batch.</summary>
    public int Pending;

    public PacketBatch(int capacity, int shards)
    {
        // A shard's share of a batch, with room for the hash's unevenness; a skewed batch grows a shard's array.
        int share = shards == 1 ? capacity : Math.Min(capacity, capacity / shards + capacity / (4 * shards) + 16);
        Packets = new PacketSummary[shards][];
        for (int i = 0; i < shards; i++)
            Packets[i] = new PacketSummary[share];
        ShardCounts = new int[shards];
        Times = new long[capacity];
        Shards = new byte[capacity];
        Output = new List<EmittedRecord>[shards];
        for (int i = 0; i < shards; i++)
            Output[i] = new List<EmittedRecord>();
    }

    public int Capacity => Times.Length;
    public bool IsFull => Count == Times.Length;

    /// <summary>Adds a packet of <paramref name="shard"/> as the next entry (growing the shard's summaries if the batch is skewed to it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per packet: never tiered (see ConnTracker.Process)
    public void Add(int shard, in PacketSummary summary)
    {
        int k = ShardCounts[shard];
        if (k == Packets[shard].Length)
            Array.Resize(ref Packets[shard], Math.Min(Capacity, k * 2));
        Packets[shard][k] = summary;
        ShardCounts[shard] = k + 1;
        Times[Count] = summary.Timestamp;
        Shards[Count] = (byte)shard;
        Count++;
    }

    /// <summary>Empties the batch for refilling (its records must have been taken).</summary>
    public void Clear()
    {
        Count = 0;
        Array.Clear(ShardCounts);
    }
}

using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Parallel;

/// <summary>A record a shard emitted while handling the packet at <see cref="Index"/> of a batch.</summary>
internal readonly record struct EmittedRecord(int Index, ConnRecord Record);

/// <summary>
/// One slot of the hand-over ring: a run of decoded packets in capture order, shared read-only by every
/// shard worker. Each worker tracks the packets of its own shard and only moves its clock on the others, so
/// every shard sees the time of every packet, exactly as the single-thread tracker does. Pooled: the reader
/// refills a slot once every worker is done with it and its records have been taken.
/// </summary>
internal sealed class PacketBatch
{
    /// <summary>The shard number of a pure time tick (no packet): every shard only advances its clock.</summary>
    public const byte TickShard = byte.MaxValue;

    public readonly PacketSummary[] Packets;
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
        Packets = new PacketSummary[capacity];
        Times = new long[capacity];
        Shards = new byte[capacity];
        Output = new List<EmittedRecord>[shards];
        for (int i = 0; i < shards; i++)
            Output[i] = new List<EmittedRecord>();
    }

    public int Capacity => Packets.Length;
    public bool IsFull => Count == Packets.Length;
}

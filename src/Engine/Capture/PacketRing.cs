namespace ConnTrack.Engine.Capture;

/// <summary>
/// A bounded single-producer/single-consumer queue of captured packets between libpcap's capture thread and
/// the consumer. Each slot owns a buffer that is reused (grown only when a bigger packet comes), so after a warm-up
/// nothing is allocated per packet. The consumer reads the head slot in place and releases it when done.
/// </summary>
internal sealed class PacketRing
{
    private struct Slot
    {
        public byte[] Buffer;
        public int Length;
        public int OriginalLength;
        public long Timestamp;
    }

    private readonly Slot[] _slots;
    private readonly object _gate = new();
    private int _head;   // next slot to read
    private int _count;  // slots filled
    private bool _closed;
    private bool _consumerWaiting;

    public PacketRing(int capacity)
    {
        if (capacity < 1)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The queue needs room for at least one packet.");
        _slots = new Slot[capacity];
    }

    public int Capacity => _slots.Length;

    /// <summary>Packets dropped because the consumer fell behind and the queue was full.</summary>
    public long Dropped { get; private set; }

    /// <summary>Packets queued so far.</summary>
    public long Enqueued { get; private set; }

    public int Count { get { lock (_gate) return _count; } }

    /// <summary>Producer: copies the packet into the next free slot; false (and counted) when the queue is full or closed.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> data, int originalLength, long timestamp)
    {
        lock (_gate)
        {
            if (_closed)
                return false;
            if (_count == _slots.Length)
            {
                Dropped++;
                return false;
            }
            ref Slot slot = ref _slots[(_head + _count) % _slots.Length];
            if (slot.Buffer == null || slot.Buffer.Length < data.Length)
                slot.Buffer = new byte[Math.Max(2048, (int)Math.Min((long)data.Length * 2, int.MaxValue / 2))];
            data.CopyTo(slot.Buffer);
            slot.Length = data.Length;
            slot.OriginalLength = originalLength;
            slot.Timestamp = timestamp;
            _count++;
            Enqueued++;
            if (_consumerWaiting)
                Monitor.Pulse(_gate);
            return true;
        }
    }

    /// <summary>
    /// Consumer: the oldest packet, read in place. The span stays valid until <see cref="Release"/>; the producer
    /// never writes a filled slot.
    /// </summary>
    public bool TryPeek(out ReadOnlySpan<byte> data, out int originalLength, out long timestamp)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                data = default;
                originalLength = 0;
                timestamp = 0;
                return false;
            }
            ref Slot slot = ref _slots[_head];
            data = new ReadOnlySpan<byte>(slot.Buffer, 0, slot.Length);
            originalLength = slot.OriginalLength;
            timestamp = slot.Timestamp;
            return true;
        }
    }

    /// <summary>Consumer: frees the slot last returned by <see cref="TryPeek"/>.</summary>
    public void Release()
    {
        lock (_gate)
        {
            if (_count == 0)
                throw new InvalidOperationException("Nothing to release.");
            _head = (_head + 1) % _slots.Length;
            _count--;
        }
    }

    /// <summary>Consumer: waits until a packet is queued, the ring is closed, or the timeout passes. True when a packet waits.</summary>
    public bool WaitForPacket(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_count > 0)
                return true;
            if (_closed)
                return false;
            _consumerWaiting = true;
            try
            {
                Monitor.Wait(_gate, timeout);
            }
            finally
            {
                _consumerWaiting = false;
            }
            return _count > 0;
        }
    }

    /// <summary>Wakes the consumer at once (a stop was asked for).</summary>
    public void Interrupt()
    {
        lock (_gate)
            Monitor.PulseAll(_gate);
    }

    /// <summary>No more packets will be accepted; the ones queued can still be read.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }
}

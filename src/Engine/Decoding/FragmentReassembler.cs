using ConnTrack.Engine.Diagnostics;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Decoding;

/// <summary>
/// IP fragment reassembly as Zeek's Frag.cc does it: fragments are keyed by (source, destination,
/// identification); data seen first wins where fragments overlap (counted as fragment_overlap, or
/// fragment_inconsistency when the bytes differ); the header is the one of the first fragment to arrive;
/// a datagram is complete once the last fragment (MF clear) fixed its size and the data from offset 0
/// is contiguous up to it. Zeek's frag_timeout defaults to 0 (keep forever); a positive
/// <see cref="Timeout"/> expires partial datagrams by packet time. Allocates (fragments are rare).
/// </summary>
internal sealed class FragmentReassembler
{
    private const int MinAcceptableFragSize = 64;
    private const int MaxAcceptableFragSize = 64000;

    private readonly Dictionary<FragmentKey, Datagram> _pending = new();
    private readonly WeirdCounters _weirds;

    public FragmentReassembler(WeirdCounters weirds) => _weirds = weirds;

    /// <summary>How long a partial datagram is kept (packet time); zero or negative keeps it forever, as Zeek's default.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.Zero;

    /// <summary>The most partial datagrams kept at once; past it the oldest is dropped (a bound Zeek does not have).</summary>
    public int MaxPending { get; set; } = 65536;

    public int PendingCount => _pending.Count;

    private readonly record struct FragmentKey(IPAddr128 Src, IPAddr128 Dst, uint Id);

    private sealed class Datagram
    {
        public byte[] Header = Array.Empty<byte>();   // unfragmentable part as first seen (IPv6: without the fragment header)
        public int NextHeaderOffset = -1;             // IPv6: where the byte naming the fragment header sits in Header
        public byte NextProto;
        public int FragSize;                          // 0: not known yet
        public byte[] Data = new byte[2048];
        public readonly List<(int Start, int End)> Blocks = new();
        public long FirstSeen;
    }

    /// <summary>
    /// Adds one fragment. <paramref name="header"/> is the unfragmentable part (IPv4 header with options; IPv6
    /// header through the fragment header), <paramref name="payload"/> the fragment's data (exactly its IP length).
    /// Returns the whole reassembled IP packet when this fragment completes it, else null.
    /// </summary>
    public byte[]? Add(long timestamp, in IPAddr128 src, in IPAddr128 dst, uint id, bool ipv6,
        ReadOnlySpan<byte> header, int nextHeaderOffset, byte protocol, int offset, bool moreFragments, bool dontFragment,
        ReadOnlySpan<byte> payload)
    {
        if (Timeout > TimeSpan.Zero)
            ExpireOlderThan(timestamp - Timeout.Ticks * 100);

        var key = new FragmentKey(src, dst, id);
        if (!_pending.TryGetValue(key, out var d))
        {
            if (_pending.Count >= MaxPending)
                DropOldest();
            d = new Datagram
            {
                Header = header.ToArray(),
                NextHeaderOffset = nextHeaderOffset,
                NextProto = protocol,
                FirstSeen = timestamp,
            };
            _pending.Add(key, d);
        }
        else
        {
            bool inconsistent = ipv6
                ? protocol != d.NextProto || header.Length != d.Header.Length
                : protocol != d.Header[9] || (header[0] & 0x0F) != (d.Header[0] & 0x0F);
            if (inconsistent)
                _weirds.Add("fragment_protocol_inconsistency");
        }

        if (dontFragment)
            _weirds.Add("fragment_with_DF");

        int upper = offset + payload.Length;
        if (offset == 0)
            d.NextProto = protocol;

        if (!moreFragments)
        {
            if (d.FragSize == 0)
                d.FragSize = upper;
            else if (upper != d.FragSize)
            {
                _weirds.Add("fragment_size_inconsistency");
                if (upper > d.FragSize) d.FragSize = upper;
            }
        }
        else if (payload.Length + header.Length < MinAcceptableFragSize)
            _weirds.Add("excessively_small_fragment");

        if (upper > MaxAcceptableFragSize)
            _weirds.Add("excessively_large_fragment");

        if (d.FragSize != 0 && upper > d.FragSize)
        {
            _weirds.Add("fragment_size_inconsistency");
            d.FragSize = upper;
        }

        Insert(d, offset, payload);

        var result = TryComplete(d, ipv6);
        if (result != null)
            _pending.Remove(key);
        return result;
    }

    /// <summary>Inserts a block; bytes already held win, only the holes are filled.</summary>
    private void Insert(Datagram d, int offset, ReadOnlySpan<byte> payload)
    {
        int end = offset + payload.Length;
        if (payload.Length == 0) return;
        if (d.Data.Length < end)
            Array.Resize(ref d.Data, Math.Max(end, d.Data.Length * 2));

        var blocks = d.Blocks;
        int cursor = offset;
        for (int i = 0; i < blocks.Count && cursor < end; i++)
        {
            var (bs, be) = blocks[i];
            if (be <= cursor) continue;
            if (bs >= end) break;
            if (bs > cursor)
                payload.Slice(cursor - offset, bs - cursor).CopyTo(d.Data.AsSpan(cursor));
            int os = Math.Max(bs, offset), oe = Math.Min(be, end);
            bool same = payload.Slice(os - offset, oe - os).SequenceEqual(d.Data.AsSpan(os, oe - os));
            _weirds.Add(same ? "fragment_overlap" : "fragment_inconsistency");
            cursor = Math.Max(cursor, be);
        }
        if (cursor < end)
            payload.Slice(cursor - offset).CopyTo(d.Data.AsSpan(cursor));

        // Merge [offset, end) into the sorted, disjoint list of covered ranges (adjacent ones join).
        int s = offset, e = end, k = 0;
        while (k < blocks.Count && blocks[k].End < s) k++;
        while (k < blocks.Count && blocks[k].Start <= e)
        {
            s = Math.Min(s, blocks[k].Start);
            e = Math.Max(e, blocks[k].End);
            blocks.RemoveAt(k);
        }
        blocks.Insert(k, (s, e));
    }

    private byte[]? TryComplete(Datagram d, bool ipv6)
    {
        var blocks = d.Blocks;
        if (blocks.Count == 0 || blocks[0].Start > 0 || d.FragSize == 0)
            return null;
        int contiguousEnd = blocks[0].End;
        if (blocks.Count > 1)
        {
            // A hole: only if the contiguous part already reaches the expected end do we go on (with what we have).
            if (contiguousEnd < d.FragSize) return null;
            _weirds.Add("fragment_size_inconsistency");
            d.FragSize = contiguousEnd;
        }
        else if (contiguousEnd > d.FragSize)
        {
            _weirds.Add("fragment_size_inconsistency");
            d.FragSize = contiguousEnd;
        }
        else if (contiguousEnd < d.FragSize)
            return null;

        int hlen = d.Header.Length;
        var packet = new byte[hlen + d.FragSize];
        d.Header.CopyTo(packet, 0);
        d.Data.AsSpan(0, d.FragSize).CopyTo(packet.AsSpan(hlen));
        if (ipv6)
        {
            int plen = hlen + d.FragSize - 40;
            packet[4] = (byte)(plen >> 8);
            packet[5] = (byte)plen;
            if (d.NextHeaderOffset >= 0)
                packet[d.NextHeaderOffset] = d.NextProto;
        }
        else
        {
            int total = hlen + d.FragSize;
            packet[2] = (byte)(total >> 8);
            packet[3] = (byte)total;
        }
        return packet;
    }

    private void ExpireOlderThan(long cutoff)
    {
        if (_pending.Count == 0) return;
        List<FragmentKey>? old = null;
        foreach (var (k, v) in _pending)
            if (v.FirstSeen < cutoff) (old ??= new()).Add(k);
        if (old != null)
            foreach (var k in old) _pending.Remove(k);
    }

    private void DropOldest()
    {
        FragmentKey? oldest = null;
        long t = long.MaxValue;
        foreach (var (k, v) in _pending)
            if (v.FirstSeen < t) { t = v.FirstSeen; oldest = k; }
        if (oldest is { } o) _pending.Remove(o);
    }
}

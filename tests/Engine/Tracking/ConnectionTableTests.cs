using ConnTrack.Engine.Net;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>The open-addressing connection table over the slab, checked against a Dictionary through adds, replaces and removals.</summary>
public class ConnectionTableTests
{
    private readonly ConnectionSlab _slab = new();
    private readonly Ipv6AddrStore _v6 = new();

    // Every third key is IPv6 (its addresses in the address store), the rest IPv4 (inline).
    private static FlowKey Key(int i) =>
        i % 3 == 2
            ? FlowKey.Create(new IPAddr128(0x2001_0db8_0000_0000UL, (ulong)(uint)(i % 97)), (ushort)i,
                             new IPAddr128(0x2001_0db8_0000_0001UL, (ulong)(uint)(i % 5)), 443, 6, true)
            : FlowKey.Create(IPAddr128.FromIPv4(0x0A000000u | (uint)(i >> 16)), (ushort)i, IPAddr128.FromIPv4(0xC0A80001), 443, 6, true);

    private int NewConn(in FlowKey key)
    {
        int slot = _slab.Allocate();
        _slab[slot].SetKey(key, _v6);
        _slab[slot].Status = ConnStatus.Live;
        return slot;
    }

    private void Free(int slot)
    {
        _slab[slot].ReleaseKey(_v6);
        _slab.Free(slot);
    }

    private ConnectionTable NewTable() => new(_slab, _v6);

    private int Add(ConnectionTable table, in FlowKey key)
    {
        int hash = key.GetHashCode();
        Assert.Equal(-1, table.Find(key, hash, out int position));
        int slot = NewConn(key);
        table.Insert(position, slot, hash);
        return slot;
    }

    [Fact]
    public void FindsWhatWasAddedAndNothingElse()
    {
        var table = NewTable();
        var added = Enumerable.Range(0, 5000).Select(i => Add(table, Key(i))).ToArray();
        Assert.Equal(5000, table.Count);
        for (int i = 0; i < 5000; i++)
            Assert.Equal(added[i], table.Find(Key(i)));
        Assert.Equal(-1, table.Find(Key(5000)));
        Assert.Equal(-1, table.Find(Key(-1)));
        Assert.Equal(97 + 5, _v6.Count); // the IPv6 keys share their addresses: 97 and 5 distinct
    }

    [Fact]
    public void AnIpv4KeyNeverMatchesAnIpv6OneWithTheSamePortsAndViceVersa()
    {
        var table = NewTable();
        var v4 = FlowKey.Create(IPAddr128.FromIPv4(1), 1000, IPAddr128.FromIPv4(2), 80, 6, true);
        var v6 = FlowKey.Create(new IPAddr128(0, 1), 1000, new IPAddr128(0, 2), 80, 6, true);
        int a = Add(table, v4);
        Assert.Equal(-1, table.Find(v6));
        int b = Add(table, v6);
        Assert.Equal(a, table.Find(v4));
        Assert.Equal(b, table.Find(v6));
        Assert.False(_slab[a].IsV6);
        Assert.True(_slab[b].IsV6);
        Assert.Equal(v4, _slab[a].ToFlowKey(_v6, null));
        Assert.Equal(v6, _slab[b].ToFlowKey(_v6, null));
    }

    [Fact]
    public void RandomAddsReplacesAndRemovalsMatchADictionary()
    {
        var rng = new Random(11);
        var table = NewTable();
        var reference = new Dictionary<FlowKey, int>();
        for (int step = 0; step < 100_000; step++)
        {
            var key = Key(rng.Next(3000)); // small key space: long probe runs, many removals inside runs
            int hash = key.GetHashCode();
            int found = table.Find(key, hash, out int position);
            int expected = reference.TryGetValue(key, out int e) ? e : -1;
            Assert.Equal(expected, found);
            switch (rng.Next(3))
            {
                case 0 when found < 0:
                    int conn = NewConn(key);
                    table.Insert(position, conn, hash);
                    reference[key] = conn;
                    break;
                case 1 when found >= 0:
                    int next = NewConn(key);
                    table.Replace(position, found, next);
                    Free(found);
                    reference[key] = next;
                    break;
                case 2 when found >= 0:
                    int other = NewConn(key);
                    Assert.False(table.Remove(other)); // same key, another connection: not removed
                    Free(other);
                    Assert.True(table.Remove(found));
                    Assert.False(table.Remove(found));
                    Free(found);
                    reference.Remove(key);
                    break;
            }
            Assert.Equal(reference.Count, table.Count);
            Assert.Equal(reference.Count, _slab.Count);
        }
        foreach (var (key, conn) in reference)
            Assert.Equal(conn, table.Find(key));
        var all = new List<int>();
        table.CopyTo(all);
        Assert.Equal(reference.Values.Order(), all.Order());
        // The address store holds the distinct addresses of the live IPv6 keys.
        Assert.Equal(reference.Keys.Where(k => !k.AddrA.IsIPv4).SelectMany(k => new[] { k.AddrA, k.AddrB }).Distinct().Count(), _v6.Count);
    }

    [Fact]
    public void ClearEmptiesTheTable()
    {
        var table = NewTable();
        for (int i = 0; i < 100; i++)
            Add(table, Key(i));
        table.Clear();
        Assert.Equal(0, table.Count);
        Assert.Equal(-1, table.Find(Key(5)));
        Add(table, Key(5));
        Assert.Equal(1, table.Count);
    }
}

using ConnTrack.Engine.Config;
using ConnTrack.Engine.Net;
using ConnTrack.Engine.Records;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>The open-addressing connection table, checked against a Dictionary through adds, replaces and removals.</summary>
public class ConnectionTableTests
{
    private static readonly ConnTracker Tracker = new(new ConnTrackOptions(), new ListSink());

    private static FlowKey Key(int i) =>
        FlowKey.Create(IPAddr128.FromIPv4(0x0A000000u | (uint)(i >> 16)), (ushort)i, IPAddr128.FromIPv4(0xC0A80001), 443, 6, true);

    private static Connection NewConn(in FlowKey key) => new(Tracker, key, TransportProto.Tcp, 6, 0);

    private static Connection Add(ConnectionTable table, in FlowKey key)
    {
        int hash = key.GetHashCode();
        Assert.Null(table.Find(key, hash, out int slot));
        var conn = NewConn(key);
        table.Insert(slot, conn, hash);
        return conn;
    }

    [Fact]
    public void FindsWhatWasAddedAndNothingElse()
    {
        var table = new ConnectionTable();
        var added = Enumerable.Range(0, 5000).Select(i => Add(table, Key(i))).ToArray();
        Assert.Equal(5000, table.Count);
        for (int i = 0; i < 5000; i++)
            Assert.Same(added[i], table.Find(Key(i)));
        Assert.Null(table.Find(Key(5000)));
        Assert.Null(table.Find(Key(-1)));
    }

    [Fact]
    public void RandomAddsReplacesAndRemovalsMatchADictionary()
    {
        var rng = new Random(11);
        var table = new ConnectionTable();
        var reference = new Dictionary<FlowKey, Connection>();
        for (int step = 0; step < 100_000; step++)
        {
            var key = Key(rng.Next(3000)); // small key space: long probe runs, many removals inside runs
            int hash = key.GetHashCode();
            var found = table.Find(key, hash, out int slot);
            reference.TryGetValue(key, out var expected);
            Assert.Same(expected, found);
            switch (rng.Next(3))
            {
                case 0 when found is null:
                    var conn = NewConn(key);
                    table.Insert(slot, conn, hash);
                    reference[key] = conn;
                    break;
                case 1 when found is not null:
                    var next = NewConn(key);
                    table.Replace(slot, found, next);
                    reference[key] = next;
                    break;
                case 2 when found is not null:
                    Assert.False(table.Remove(NewConn(key))); // same key, another connection: not removed
                    Assert.True(table.Remove(found));
                    Assert.False(table.Remove(found));
                    reference.Remove(key);
                    break;
            }
            Assert.Equal(reference.Count, table.Count);
        }
        foreach (var (key, conn) in reference)
            Assert.Same(conn, table.Find(key));
        var all = new List<Connection>();
        table.CopyTo(all);
        Assert.Equal(reference.Values.OrderBy(c => c.Key.PortA), all.OrderBy(c => c.Key.PortA));
    }

    [Fact]
    public void ClearEmptiesTheTable()
    {
        var table = new ConnectionTable();
        for (int i = 0; i < 100; i++)
            Add(table, Key(i));
        table.Clear();
        Assert.Equal(0, table.Count);
        Assert.Null(table.Find(Key(5)));
        Add(table, Key(5));
        Assert.Equal(1, table.Count);
    }
}

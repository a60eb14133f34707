using System.Reflection;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Records;

/// <summary>The record keeps its optional fields as values plus set bits: each must still read back as written, null included.</summary>
public class ConnRecordTests
{
    private static readonly PropertyInfo[] Optional = typeof(ConnRecord).GetProperties()
        .Where(p => Nullable.GetUnderlyingType(p.PropertyType) is not null).ToArray();

    [Fact]
    public void EveryOptionalFieldReadsBackAsWrittenWhateverTheOthersHold()
    {
        Assert.Equal(14, Optional.Length); // duration, 6 counts and byte totals, 2 locals, 2 VLANs, 2 MACs, PPPoE
        var rng = new Random(3);
        var record = new ConnRecord();
        Assert.All(Optional, p => Assert.Null(p.GetValue(record)));
        var expected = new object?[Optional.Length];
        for (int step = 0; step < 5000; step++)
        {
            int i = rng.Next(Optional.Length);
            var type = Nullable.GetUnderlyingType(Optional[i].PropertyType)!;
            object? value = rng.Next(3) == 0 ? null : type switch
            {
                _ when type == typeof(bool) => rng.Next(2) == 0,
                _ when type == typeof(ushort) => (ushort)rng.Next(ushort.MaxValue + 1),
                _ when type == typeof(long) => rng.NextInt64(long.MinValue, long.MaxValue),
                _ => (ulong)rng.NextInt64() * 2 + (ulong)rng.Next(2),
            };
            Optional[i].SetValue(record, value);
            expected[i] = value;
            for (int k = 0; k < Optional.Length; k++)
                Assert.Equal(expected[k], Optional[k].GetValue(record));
        }
    }

    [Fact]
    public void CloneCopiesTheFieldsAndItsOwnTunnelParents()
    {
        var record = new ConnRecord { Uid = "C1", OrigBytes = 0, LocalOrig = false, LocalResp = true, Vlan = 0, TunnelParents = ["Cparent"] };
        var copy = record.Clone();
        copy.TunnelParents![0] = "Cother";
        copy.OrigBytes = null;
        Assert.Equal("Cparent", record.TunnelParents[0]);
        Assert.Equal(0UL, record.OrigBytes);
        Assert.Equal((false, true, (ushort?)0), (copy.LocalOrig, copy.LocalResp, copy.Vlan));
    }
}

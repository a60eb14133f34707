using ConnTrack.Engine.Net;
using ConnTrack.Engine.Tracking;
using Xunit;

namespace ConnTrack.Engine.Tests.Tracking;

/// <summary>
/// The interner drops its unused values in bulk and rebuilds its index in place: afterwards every value still
/// held must be found under its own id, and the dropped ones must come back as new values, not as stale ids.
/// </summary>
public sealed class CountedInternerTests
{
    private static IPAddr128 Addr(int i) => IPAddr128.FromIPv4((uint)(0x0A000000 + i));

    [Fact]
    public void ValuesHeldKeepTheirIdsAcrossDropsAndDroppedOnesComeBackAsNew()
    {
        var interner = new CountedInterner<IPAddr128>();
        const int held = 500;
        var heldIds = new int[held];
        for (int i = 0; i < held; i++)
            heldIds[i] = interner.Acquire(Addr(i));

        // Many more values that come and go: the unused ones soon outnumber the used by DropMargin, again and again.
        int churn = CountedInterner<IPAddr128>.DropMargin * 6;
        for (int i = 0; i < churn; i++)
        {
            int id = interner.Acquire(Addr(held + i));
            Assert.Equal(Addr(held + i), interner[id]);
            interner.Release(id);
        }

        Assert.Equal(held, interner.Count);
        for (int i = 0; i < held; i++)
        {
            int again = interner.Acquire(Addr(i));
            Assert.Equal(heldIds[i], again);
            Assert.Equal(Addr(i), interner[again]);
            interner.Release(again);
        }
        // A value dropped long ago is a new value now: it gets an id of its own holding it, whatever id it had.
        int back = interner.Acquire(Addr(held));
        Assert.Equal(Addr(held), interner[back]);
        Assert.DoesNotContain(back, heldIds);
        Assert.Equal(held + 1, interner.Count);
    }
}

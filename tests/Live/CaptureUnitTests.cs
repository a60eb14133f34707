using ConnTrack.Engine.Capture;
using Xunit;

namespace ConnTrack.Live.Tests;

/// <summary>The parts of live capture that need no device: the packet queue and the error messages.</summary>
public sealed class CaptureUnitTests
{
    [Fact]
    public void PacketRing_IsFifo_ReusesSlots_AndCountsDropsWhenFull()
    {
        var ring = new PacketRing(2);
        Assert.True(ring.TryEnqueue([1, 2, 3], 3, 10));
        Assert.True(ring.TryEnqueue([4], 9, 20));
        Assert.False(ring.TryEnqueue([5], 1, 30)); // full
        Assert.Equal(1, ring.Dropped);
        Assert.Equal(2, ring.Enqueued);

        Assert.True(ring.TryPeek(out var data, out int orig, out long ts));
        Assert.Equal(new byte[] { 1, 2, 3 }, data.ToArray());
        Assert.Equal((3, 10L), (orig, ts));
        ring.Release();
        Assert.True(ring.TryEnqueue([6, 7], 2, 40)); // wraps into the freed slot

        Assert.True(ring.TryPeek(out data, out orig, out ts));
        Assert.Equal(new byte[] { 4 }, data.ToArray());
        Assert.Equal((9, 20L), (orig, ts));
        ring.Release();
        Assert.True(ring.TryPeek(out data, out _, out ts));
        Assert.Equal(new byte[] { 6, 7 }, data.ToArray());
        Assert.Equal(40L, ts);
        ring.Release();
        Assert.False(ring.TryPeek(out _, out _, out _));
        Assert.Throws<InvalidOperationException>(ring.Release);
    }

    [Fact]
    public async Task PacketRing_Wait_TimesOut_WakesOnPacket_AndReturnsAtOnceWhenClosed()
    {
        var ring = new PacketRing(4);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(ring.WaitForPacket(TimeSpan.FromMilliseconds(100)));
        Assert.True(clock.ElapsedMilliseconds >= 90);

        var producer = Task.Run(async () => { await Task.Delay(100); ring.TryEnqueue(new byte[4000], 4000, 1); });
        clock.Restart();
        Assert.True(ring.WaitForPacket(TimeSpan.FromSeconds(10)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        await producer;
        Assert.True(ring.TryPeek(out var big, out _, out _));
        Assert.Equal(4000, big.Length);
        ring.Release();

        ring.Close();
        Assert.False(ring.TryEnqueue([1], 1, 2));
        clock.Restart();
        Assert.False(ring.WaitForPacket(TimeSpan.FromSeconds(10)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void MissingLibpcap_SaysHowToInstallIt()
    {
        var thrown = new TypeInitializationException("SharpPcap.LibPcap.LibPcapSafeNativeMethods",
            new DllNotFoundException("Unable to load shared library 'wpcap' or one of its dependencies."));
        Assert.True(LiveCaptureException.IsLibraryMissing(thrown));
        Assert.False(LiveCaptureException.IsLibraryMissing(new InvalidOperationException("x")));

        var ex = LiveCaptureSource.ClassifyOpenError(thrown, "eth0");
        Assert.Equal(LiveCaptureProblem.LibpcapNotFound, ex.Problem);
        Assert.Contains("apt-get install libpcap0.8", ex.Message);
        Assert.Contains("Npcap", ex.Message);
        Assert.Contains("Unable to load shared library 'wpcap'", ex.Message);
    }

    [Fact]
    public void PermissionDenied_SaysToRunAsRootOrGrantCapNetRaw()
    {
        var ex = LiveCaptureSource.ClassifyOpenError(
            new Exception("eth0: You don't have permission to perform this capture on that device (socket: Operation not permitted)"), "eth0");
        Assert.Equal(LiveCaptureProblem.PermissionDenied, ex.Problem);
        Assert.Equal("eth0", ex.InterfaceName);
        Assert.Contains("'eth0'", ex.Message);
        Assert.Contains("root", ex.Message);
        Assert.Contains("CAP_NET_RAW", ex.Message);
    }

    [Fact]
    public void OtherOpenFailures_NameTheDevice_AndKeepLibpcapsReason()
    {
        var ex = LiveCaptureSource.ClassifyOpenError(new Exception("ifb0: That device is not up\nmore"), "ifb0");
        Assert.Equal(LiveCaptureProblem.OpenFailed, ex.Problem);
        Assert.Equal("The device 'ifb0' could not be opened for capture: ifb0: That device is not up", ex.Message);
    }

    [Theory]
    [InlineData(1, LinkType.Ethernet)]
    [InlineData(12, LinkType.Raw)]
    [InlineData(14, LinkType.Raw)]
    [InlineData(113, LinkType.LinuxSll)]
    [InlineData(276, LinkType.LinuxSll2)]
    [InlineData(0, LinkType.Null)]
    public void DataLinkTypes_MapToFileLinkTypes(int dlt, LinkType expected) =>
        Assert.Equal(expected, LiveCaptureSource.MapLinkType(dlt));
}

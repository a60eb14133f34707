using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ConnTrack.Engine;
using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using Xunit;

namespace ConnTrack.Live.Tests;

/// <summary>The capture layer on real loopback packets: what arrives, how it is cut, filtered, timed and stopped.</summary>
public sealed class LiveCaptureSourceTests
{
    private static int FreeUdpPort()
    {
        using var s = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.Client.LocalEndPoint!).Port;
    }

    private static List<(byte[] Data, int OriginalLength, long Timestamp, LinkType LinkType)> ReadFor(LiveCaptureSource source, int want, TimeSpan max)
    {
        var got = new List<(byte[], int, long, LinkType)>();
        var clock = Stopwatch.StartNew();
        while (got.Count < want && clock.Elapsed < max)
        {
            if (!source.WaitForPacket(TimeSpan.FromMilliseconds(100)))
                continue;
            while (source.TryReadNext(out var f))
                got.Add((f.Data.ToArray(), f.OriginalLength, f.Timestamp, f.LinkType));
        }
        return got;
    }

    [LiveFact]
    public void Loopback_UdpDatagrams_ArriveWhole_InOrder_WithWallClockTimes_AndTheFilterKeepsOnlyThem()
    {
        int port = FreeUdpPort();
        int otherPort = FreeUdpPort();
        using var source = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = $"udp and dst port {port}" });
        Assert.Equal(LinkType.Ethernet, source.LinkType); // Linux lo is DLT_EN10MB

        long before = LiveCaptureSource.NowNanos();
        using (var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            for (int i = 0; i < 5; i++)
            {
                sender.Send(Traffic.Pattern(100 + i, i), new IPEndPoint(IPAddress.Loopback, otherPort)); // filtered out
                sender.Send(Traffic.Pattern(100 + i, i), new IPEndPoint(IPAddress.Loopback, port));
            }
        }
        var frames = ReadFor(source, 5, TimeSpan.FromSeconds(5));
        Thread.Sleep(200);
        while (source.TryReadNext(out var extra))
            frames.Add((extra.Data.ToArray(), extra.OriginalLength, extra.Timestamp, extra.LinkType));
        long after = LiveCaptureSource.NowNanos();

        Assert.Equal(5, frames.Count);
        long last = 0;
        for (int i = 0; i < 5; i++)
        {
            var (data, originalLength, timestamp, linkType) = frames[i];
            int payload = 100 + i;
            Assert.Equal(14 + 20 + 8 + payload, data.Length);
            Assert.Equal(data.Length, originalLength);
            Assert.Equal(LinkType.Ethernet, linkType);
            Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(12))); // IPv4
            Assert.Equal(port, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(14 + 20 + 2)));
            Assert.Equal(Traffic.Pattern(payload, i), data.AsSpan(14 + 28).ToArray());
            Assert.InRange(timestamp, before - 1_000_000, after + 1_000_000);
            Assert.True(timestamp >= last, "packet times go forward");
            last = timestamp;
        }
        Assert.Equal(5, source.PacketsCaptured);
        Assert.Equal(0, source.PacketsDropped);
        Assert.Equal(5, source.PacketsRead);
    }

    [LiveFact]
    public void SnapLength_CutsTheCapturedBytes_ButKeepsTheWireLength()
    {
        int port = FreeUdpPort();
        using var source = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = $"udp dst port {port}", SnapLength = 64 });
        using (var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            sender.Send(new byte[200], new IPEndPoint(IPAddress.Loopback, port));
        var frames = ReadFor(source, 1, TimeSpan.FromSeconds(5));
        var frame = Assert.Single(frames);
        Assert.Equal(64, frame.Data.Length);
        Assert.Equal(14 + 20 + 8 + 200, frame.OriginalLength);
    }

    [LiveFact]
    public void UnknownInterface_NamesIt_AndListsTheDevicesThereAre()
    {
        var ex = Assert.Throws<LiveCaptureException>(() => LiveCaptureSource.Open(new LiveCaptureOptions("nosuch0")));
        Assert.Equal(LiveCaptureProblem.InterfaceNotFound, ex.Problem);
        Assert.Contains("'nosuch0'", ex.Message);
        Assert.Contains("lo", ex.AvailableInterfaces);
        Assert.Contains("lo", ex.Message);
    }

    [LiveFact]
    public void InvalidFilter_IsReportedAsSuch_AndReleasesTheDevice()
    {
        var ex = Assert.Throws<LiveCaptureException>(() =>
            LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = "tcp port banana and (" }));
        Assert.Equal(LiveCaptureProblem.InvalidFilter, ex.Problem);
        Assert.Contains("tcp port banana", ex.Message);
        // The device is usable again at once.
        using var again = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = "udp port 9" });
        Assert.False(again.IsStopped);
    }

    [LiveFact]
    public void Stop_EndsTheCapture_IsIdempotent_AndKeepsWhatWasQueued()
    {
        int port = FreeUdpPort();
        var source = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = $"udp dst port {port}" });
        using (var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            sender.Send(new byte[3], new IPEndPoint(IPAddress.Loopback, port));
        var clock = Stopwatch.StartNew();
        while (source.PacketsCaptured < 1 && clock.Elapsed < TimeSpan.FromSeconds(5))
            Thread.Sleep(10);

        source.Stop();
        source.Stop();
        Assert.True(source.IsStopped);
        using (var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            sender.Send(new byte[3], new IPEndPoint(IPAddress.Loopback, port)); // not captured any more

        Assert.True(source.TryReadNext(out var queued));
        Assert.Equal(14 + 20 + 8 + 3, queued.Data.Length);
        Assert.False(source.TryReadNext(out _));
        clock.Restart();
        Assert.False(source.WaitForPacket(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), "a stopped source does not wait");
        Assert.Equal(1, source.PacketsCaptured);
        source.Dispose();
    }

    [LiveFact]
    public void ListDevices_ShowsLoopback_WithItsAddress_FlagsAndLinkType()
    {
        var lo = Assert.Single(LiveCaptureSource.ListDevices(readLinkTypes: true), d => d.Name == LiveEnvironment.Loopback);
        Assert.True(lo.IsLoopback);
        Assert.True(lo.IsUp);
        Assert.Contains(IPAddress.Loopback, lo.Addresses);
        Assert.Equal(1, lo.LinkType);
        Assert.Equal("Ethernet", lo.LinkTypeName);
    }

    [LiveFact]
    public void Track_LoopbackTraffic_GivesZeekRecords_SF_REJ_AndUdpSF()
    {
        using var traffic = new Traffic();
        var runner = new ConnTraceRunner(new ConnTrackOptions { IgnoreChecksums = true });
        using var source = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = traffic.Filter });

        var trafficTask = Task.Run(async () =>
        {
            await Task.Delay(300);
            return await traffic.RunAsync();
        });
        var records = source.Track(runner, duration: TimeSpan.FromSeconds(3)).ToList();
        var result = trafficTask.GetAwaiter().GetResult();

        TrafficAssert.Matches(result, records.Select(ConnRow.From).ToList());
        Assert.True(source.IsStopped);
        Assert.Equal(0, runner.OpenConnections);
    }

    [LiveFact]
    public void Track_EndsAtCount_AndOnCancel_FlushingOpenConnections()
    {
        int port = FreeUdpPort();
        var runner = new ConnTraceRunner(new ConnTrackOptions { IgnoreChecksums = true });
        using var source = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = $"udp dst port {port}" });
        using (var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            for (int i = 0; i < 3; i++)
                sender.Send(new byte[5 + i], new IPEndPoint(IPAddress.Loopback, port));
        }
        // Count = 2: the third datagram is not tracked; the one connection is flushed at the end (one-sided UDP: S0).
        var clock = Stopwatch.StartNew();
        var records = source.Track(runner, duration: TimeSpan.FromSeconds(10), maxPackets: 2).ToList();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the count ends the capture, not the duration");
        var rec = Assert.Single(records);
        Assert.Equal(port, rec.RespP);
        Assert.Equal("S0", rec.ConnState);
        Assert.Equal(2UL, rec.OrigPkts);
        Assert.Equal(11UL, rec.OrigBytes); // 5 + 6
        Assert.Equal(2, source.PacketsRead);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        using var idle = LiveCaptureSource.Open(new LiveCaptureOptions(LiveEnvironment.Loopback) { Filter = "udp port 9" });
        clock.Restart();
        Assert.Empty(idle.Track(new ConnTraceRunner(new ConnTrackOptions { IgnoreChecksums = true }), cancel: cts.Token).ToList());
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3));
        Assert.True(idle.IsStopped);
    }
}

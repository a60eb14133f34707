using System.Diagnostics;
using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

/// <summary>
/// The mapping's guard (Linux): a file is mapped only under a read lease, and a program that writes or truncates
/// the file while it is mapped waits only until the windows are detached from it, never long, while the reader
/// goes on without faulting on pages the file lost. Without the guard the truncation tests end the test process
/// with SIGBUS.
/// </summary>
public sealed class LeasedMappingTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"conntrack-lease-{Guid.NewGuid():N}.cap");

    public void Dispose() => File.Delete(_path);

    private byte[] WriteCapture(int packets)
    {
        var bytes = Pcap(LinkType.Ethernet, nanosecond: true, bigEndian: false, 65535, NumberedPackets(packets, 0));
        File.WriteAllBytes(_path, bytes);
        return bytes;
    }

    /// <summary>A frame as a comparable value (Frame holds its bytes in an array, compared by reference).</summary>
    private static IEnumerable<(string, long, int, long)> Values(IEnumerable<Frame> frames) =>
        frames.Select(f => (Convert.ToHexString(f.Data), f.Timestamp, f.OriginalLength, f.Offset));

    private static Frame Copy(in RawFrame f) => new(f.Data.ToArray(), f.Timestamp, f.OriginalLength, f.LinkType, f.Offset);

    /// <summary>Opens the file for writing and cuts it to <paramref name="length"/> bytes; returns how long the open waited.</summary>
    private TimeSpan Truncate(long length)
    {
        var sw = Stopwatch.StartNew();
        using var writer = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        var waited = sw.Elapsed;
        writer.SetLength(length);
        return waited;
    }

    [Fact]
    public void AFileOpenForWritingIsReadThroughTheBufferWithTheSameFrames()
    {
        var bytes = WriteCapture(300);
        using (new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            using var reader = CaptureReader.Open(_path, map: true, mapWindowSize: 4096);
            Assert.False(((FileCaptureReader)reader).IsMapped); // a capture still being written: no lease, no mapping
            Assert.Equal(Values(ReadAll(bytes)), Values(ReadAll(reader)));
        }

        using var again = OpenMapped(_path, 4096);
        Assert.Equal(LeasesWork, ((FileCaptureReader)again).IsMapped); // once nobody writes it, it is mapped
    }

    [Fact]
    public void TruncatingTheFileUnderAPausedReaderWaitsOnlyUntilItsWindowsAreDetached()
    {
        var bytes = WriteCapture(400);
        var expected = ReadAll(bytes);
        using var reader = OpenMapped(_path, 16 * 1024);
        Assert.Equal(LeasesWork, ((FileCaptureReader)reader).IsMapped);

        var frames = new List<Frame>();
        RawFrame held = default;
        for (int i = 0; i < 40; i++)
        {
            Assert.True(reader.TryReadNext(out held));
            frames.Add(Copy(held));
        }

        // Another program cuts the file to its first packet while the reader is paused inside a window.
        var waited = Truncate(24 + 16 + expected[0].Data.Length);

        Assert.True(waited < TimeSpan.FromSeconds(5), $"the writer waited {waited} (the kernel's own limit is 45 s)");
        Assert.Equal(LeasesWork, IsDetached(reader));
        Assert.Equal(expected[39].Data, held.Data.ToArray()); // the frame in hand still reads its bytes
        // The reader goes on through what its window held, then finds the file cut.
        CaptureFormatException? error = null;
        try
        {
            while (reader.TryReadNext(out var f))
                frames.Add(Copy(f));
        }
        catch (CaptureFormatException e)
        {
            error = e;
        }
        Assert.InRange(frames.Count, 41, expected.Count - 1);
        Assert.Equal(Values(expected.Take(frames.Count)), Values(frames));
        if (error is not null)
        {
            Assert.Equal(CaptureProblem.Truncated, error.Problem);
            Assert.Equal(expected[frames.Count].Offset, error.Offset);
            Assert.Equal(_path, error.FilePath);
        }
    }

    [Fact]
    public void TruncatingTheFileUnderARunningReaderEndsTheReadAsWithTheBuffer()
    {
        var bytes = WriteCapture(3000);
        var expected = ReadAll(bytes);
        for (int round = 0; round < 3; round++)
        {
            File.WriteAllBytes(_path, bytes);
            var frames = new List<Frame>();
            Exception? failure = null;
            using var started = new ManualResetEventSlim();
            var readerThread = new Thread(() =>
            {
                try
                {
                    // Windows of one page: the reader checks the lease at every slide.
                    using var reader = CaptureReader.Open(_path, map: true, mapWindowSize: 4096);
                    while (reader.TryReadNext(out var f))
                    {
                        frames.Add(Copy(f));
                        if (frames.Count == 100) started.Set();
                        Thread.SpinWait(2000); // slow enough that the cut comes while it reads
                    }
                }
                catch (Exception e)
                {
                    failure = e;
                }
                finally
                {
                    started.Set();
                }
            });
            readerThread.Start();
            started.Wait();
            var waited = Truncate(bytes.Length / 2);
            readerThread.Join();

            Assert.True(waited < TimeSpan.FromSeconds(5), $"the writer waited {waited}");
            Assert.Equal(Values(expected.Take(frames.Count)), Values(frames));
            Assert.True(frames.Count < expected.Count, "the cut came after the whole file was read: nothing tested");
            if (failure is not null)
            {
                var e = Assert.IsType<CaptureFormatException>(failure);
                Assert.Equal(CaptureProblem.Truncated, e.Problem);
                Assert.Equal(expected[frames.Count].Offset, e.Offset);
            }
        }
    }

    [Fact]
    public unsafe void ADetachedWindowKeepsItsBytesAfterTheFileIsGone()
    {
        if (!LeasesWork) return;
        var bytes = WriteCapture(50);
        using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var map = LeasedFileMap.TryOpen(file);
        Assert.NotNull(map);
        byte* window = map.TryMapWindow(100, bytes.Length - 100);
        Assert.True(window != null);

        map.Detach();
        Assert.True(map.IsDetached);
        Assert.True(map.TryMapWindow(0, 10) == null); // no more windows once detached
        var waited = Truncate(0);                       // the lease is back: the writer does not wait

        Assert.True(waited < TimeSpan.FromSeconds(1), $"the writer waited {waited}");
        Assert.Equal(0, new FileInfo(_path).Length);
        Assert.Equal(bytes.AsSpan(100).ToArray(), new ReadOnlySpan<byte>(window, bytes.Length - 100).ToArray());
    }

    private static bool IsDetached(CaptureReader reader) => ((FileCaptureReader)reader).IsMappingDetached;
}

using ConnTrack.Engine.Capture;
using Xunit;
using static ConnTrack.Engine.Tests.Capture.CaptureTestUtil;

namespace ConnTrack.Engine.Tests.Capture;

/// <summary>
/// A capture file opened by path is memory-mapped and read in place through a sliding window; it must hand out
/// exactly what the buffered stream reader hands out: the same bytes, times, lengths and offsets, the same errors.
/// The windows here are a few KiB (the default is 8 MiB), so records straddle window borders all the time.
/// </summary>
public sealed class MappedReadTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"conntrack-mapped-{Guid.NewGuid():N}.cap");

    public void Dispose() => File.Delete(_path);

    private List<Frame> ReadMapped(int window, out bool wasMapped)
    {
        using var reader = OpenMapped(_path, window);
        wasMapped = ((FileCaptureReader)reader).IsMapped;
        return ReadAll(reader);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(5000)]      // not a multiple of the page size
    [InlineData(64)]        // smaller than most records: every read maps a window of the record's size
    public void PcapThroughSlidingWindowsEqualsTheStreamRead(int window)
    {
        var packets = NumberedPackets(700, 3);
        var bytes = Pcap(LinkType.Ethernet, nanosecond: true, bigEndian: false, 65535, packets);
        File.WriteAllBytes(_path, bytes);

        var mapped = ReadMapped(window, out bool wasMapped);
        var streamed = ReadAll(bytes);

        Assert.True(wasMapped);
        Assert.Equal(packets.Length, mapped.Count);
        Assert.Equal(streamed, mapped, FrameComparer.Instance);
        Assert.Equal(packets[699].Item1, mapped[699].Data);
        Assert.Equal(bytes.Length - 16 - packets[699].Item1.Length, mapped[699].Offset);
    }

    [Fact]
    public void PcapNgBlocksLargerThanTheWindowAndSkippedBlocksReadAsFromTheStream()
    {
        var b = new PcapNgBuilder().Section(bigEndian: false)
            .Interface((ushort)LinkType.Ethernet, 0, tsresol: 9);
        for (int i = 0; i < 40; i++)
            b.Enhanced(0, (ulong)(T0 + i), Payload(i % 5 == 0 ? 20_000 + i : 100 + i * 31, i));
        var bytes = b.ToArray();
        File.WriteAllBytes(_path, bytes);

        var mapped = ReadMapped(4096, out bool wasMapped);

        Assert.True(wasMapped);
        Assert.Equal(40, mapped.Count);
        Assert.Equal(ReadAll(bytes, "x.pcapng"), mapped, FrameComparer.Instance);
        Assert.Equal(Payload(20_035, 35), mapped[35].Data);
    }

    [Fact]
    public void TruncatedLastRecordFailsAtTheSameOffsetAfterTheSameFrames()
    {
        var bytes = Pcap(LinkType.Ethernet, false, false, 65535, NumberedPackets(50, 1));
        var cut = bytes[..^7];
        File.WriteAllBytes(_path, cut);

        var (streamed, streamError) = ReadUntilError(cut);
        var mapped = new List<Frame>();
        CaptureFormatException? mappedError = null;
        using (var reader = OpenMapped(_path, 4096))
        {
            Assert.True(((FileCaptureReader)reader).IsMapped);
            try
            {
                while (reader.TryReadNext(out var f))
                    mapped.Add(new Frame(f.Data.ToArray(), f.Timestamp, f.OriginalLength, f.LinkType, f.Offset));
            }
            catch (CaptureFormatException e)
            {
                mappedError = e;
            }
        }

        Assert.NotNull(mappedError);
        Assert.Equal(49, streamed.Count);
        Assert.Equal(streamed, mapped, FrameComparer.Instance);
        Assert.Equal(CaptureProblem.Truncated, mappedError.Problem);
        Assert.Equal(streamError.Offset, mappedError.Offset);
    }

    [Fact]
    public void FileThatGrowsWhileReadIsReadToItsNewEnd()
    {
        var first = NumberedPackets(30, 5);
        var more = NumberedPackets(20, 9);
        var whole = Pcap(LinkType.Ethernet, false, false, 65535, [.. first, .. more]);
        int firstLength = Pcap(LinkType.Ethernet, false, false, 65535, first).Length;
        File.WriteAllBytes(_path, whole[..firstLength]);

        using var reader = OpenMapped(_path, 4096);
        Assert.True(((FileCaptureReader)reader).IsMapped);
        var frames = new List<Frame>();
        for (int i = 0; i < 10; i++)
        {
            Assert.True(reader.TryReadNext(out var f));
            frames.Add(new Frame(f.Data.ToArray(), f.Timestamp, f.OriginalLength, f.LinkType, f.Offset));
        }
        // The capturing tool appends more records while we read (its open for writing takes the mapping's lease
        // back: the window is detached, and the rest is read from the stream).
        using (var append = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            append.Write(whole, firstLength, whole.Length - firstLength);
        frames.AddRange(ReadAll(reader));

        Assert.False(((FileCaptureReader)reader).IsMapped);   // past the mapped part: read from the stream
        Assert.Equal(50, frames.Count);
        Assert.Equal(ReadAll(whole), frames, FrameComparer.Instance);
        Assert.Equal(whole.Length, reader.BytesRead);
    }

    [Fact]
    public void EmptyAndHeaderOnlyFiles()
    {
        File.WriteAllBytes(_path, []);
        var e = Assert.Throws<CaptureFormatException>(() => CaptureReader.Open(_path, map: true));
        Assert.Equal(CaptureProblem.NotACapture, e.Problem);

        File.WriteAllBytes(_path, Pcap(LinkType.Ethernet, false, false, 65535));
        Assert.Empty(ReadMapped(4096, out bool wasMapped));
        Assert.True(wasMapped);
    }

    [Fact]
    public void ARunnerMapsTheFileUnlessTheOptionsSayNotWithTheSameRecords()
    {
        var frames = new List<(byte[], long, int)>();
        for (int i = 0; i < 200; i++)
        {
            var f = EthernetIpv4(17, (ushort)(1000 + i % 7), 53);
            frames.Add((f, T0 + i * 1_000_000L, f.Length));
        }
        File.WriteAllBytes(_path, Pcap(LinkType.Ethernet, false, false, 65535, [.. frames]));

        (bool Mapped, List<string> Records) Run(bool memoryMap)
        {
            // A 2 ms UDP timeout: each flow (a packet every 7 ms) ends and restarts while the file is read.
            using var runner = new ConnTraceRunner(new ConnTrack.Engine.Config.ConnTrackOptions
            {
                IgnoreChecksums = true, MemoryMapFiles = memoryMap, UdpInactivityTimeout = TimeSpan.FromMilliseconds(2),
            });
            bool? mapped = null;
            var records = new List<string>();
            foreach (var r in runner.ReadFile(_path))
            {
                mapped ??= ((FileCaptureReader)runner.CurrentReader!).IsMapped;
                records.Add($"{r.Ts} {r.OrigP} {r.RespP} {r.OrigPkts} {r.OrigBytes} {r.ConnState}");
            }
            records.AddRange(runner.Finish().Select(r => $"{r.Ts} {r.OrigP} {r.RespP} {r.OrigPkts} {r.OrigBytes} {r.ConnState}"));
            Assert.Equal(200, runner.PacketsRead);
            return (mapped ?? throw new InvalidOperationException("no record came out while the file was read"), records);
        }

        var copied = Run(memoryMap: false);
        var mapped = Run(memoryMap: true);
        // A lease denied for a moment (see OpenMapped) reads the file through the buffer: try again a few times.
        for (int retry = 0; retry < 20 && OperatingSystem.IsLinux() && !mapped.Mapped; retry++)
        {
            Thread.Sleep(50);
            mapped = Run(memoryMap: true);
        }
        Assert.False(copied.Mapped);
        Assert.Equal(OperatingSystem.IsLinux(), mapped.Mapped); // only under a read lease
        Assert.Equal(200, copied.Records.Count);
        Assert.Equal(copied.Records, mapped.Records);
    }

    private sealed class FrameComparer : IEqualityComparer<Frame>
    {
        public static readonly FrameComparer Instance = new();
        public bool Equals(Frame? x, Frame? y) =>
            x is not null && y is not null && x.Data.AsSpan().SequenceEqual(y.Data) && x.Timestamp == y.Timestamp
            && x.OriginalLength == y.OriginalLength && x.LinkType == y.LinkType && x.Offset == y.Offset;
        public int GetHashCode(Frame f) => HashCode.Combine(f.Timestamp, f.Offset);
    }
}

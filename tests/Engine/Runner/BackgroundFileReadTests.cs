using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Config;
using ConnTrack.Engine.Parallel;
using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Runner;

/// <summary>
/// A file read on the engine's own thread must hand over exactly what ReadFile yields, in its order, then why it
/// ended; stopped early, it must let go of the runner and the file without waiting for a consumer.
/// </summary>
public sealed class BackgroundFileReadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("conntrack-bgread-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ITraceRunner NewRunner(int shards) =>
        shards == 0 ? new ConnTraceRunner(new ConnTrackOptions()) : new ParallelTraceRunner(new ConnTrackOptions(), shards);

    /// <summary>Every chunk until the end (a generous wait: a chunk comes within milliseconds), then the read's error.</summary>
    private static (List<string> Rows, int Chunks, Exception? Error) TakeAll(BackgroundFileRead read)
    {
        var rows = new List<string>();
        int chunks = 0;
        while (true)
        {
            Assert.True(read.TryTake(TimeSpan.FromSeconds(30), CancellationToken.None, out var chunk), "no chunk within 30 s");
            if (chunk is null) break;
            Assert.NotEmpty(chunk);
            chunks++;
            rows.AddRange(chunk.Select(BatchedReadTests.Row));
        }
        return (rows, chunks, read.Error?.SourceException);
    }

    /// <summary>0: every file on the other thread; the default: files below 1 MiB (all of these tests') inline.</summary>
    private const long OnTheOtherThread = 0, InlineWhenSmall = BackgroundFileRead.InlineBelow;

    [Theory]
    [InlineData(0, 256, OnTheOtherThread)]
    [InlineData(0, 7, OnTheOtherThread)]
    [InlineData(2, 7, OnTheOtherThread)]
    [InlineData(0, 7, InlineWhenSmall)]
    [InlineData(2, 7, InlineWhenSmall)]
    public void HandsOverTheRecordsOfReadFileInTheirOrder(int shards, int chunkSize, long inlineBelow)
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        using var expectedRunner = NewRunner(shards);
        var expected = expectedRunner.ReadFile(path).Select(BatchedReadTests.Row).ToList();
        var expectedEnd = expectedRunner.Finish().Select(BatchedReadTests.Row).ToList();

        using var runner = NewRunner(shards);
        List<string> rows;
        int chunks;
        Exception? error;
        using (var reader = CaptureReader.Open(path))
        using (var read = new BackgroundFileRead(runner, reader, chunkSize, 2, inlineBelow: inlineBelow))
            (rows, chunks, error) = TakeAll(read);

        Assert.Null(error);
        Assert.True(expected.Count > 100, $"only {expected.Count} records before the end of the file");
        Assert.Equal(expected, rows);
        Assert.True(chunks >= expected.Count / chunkSize, $"{chunks} chunks for {rows.Count} records of {chunkSize}");
        Assert.Equal(expectedRunner.PacketsRead, runner.PacketsRead);
        Assert.Equal(expectedEnd, runner.Finish().Select(BatchedReadTests.Row).ToList());
    }

    [Theory]
    [InlineData(0, OnTheOtherThread)]
    [InlineData(2, OnTheOtherThread)]
    [InlineData(0, InlineWhenSmall)]
    public void FilesReadOneAfterAnotherOnOneReadThread_HandOverWhatReadsOnTheirOwnThreadsDo(int shards, long inlineBelow)
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        var damaged = Path.Combine(_dir, "damaged.pcap");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(damaged, bytes[..(bytes.Length / 2)]);
        string[] files = [path, damaged, path];

        List<string> ReadAll(ITraceRunner runner, ReadThread? thread, List<Type?> errors)
        {
            var rows = new List<string>();
            foreach (var file in files)
            {
                using var reader = CaptureReader.Open(file);
                using var read = new BackgroundFileRead(runner, reader, BackgroundFileRead.ChunkSize, BackgroundFileRead.MaxChunksWaiting, thread, inlineBelow);
                var (fileRows, _, error) = TakeAll(read);
                rows.AddRange(fileRows);
                errors.Add(error?.GetType());
            }
            rows.AddRange(runner.Finish().Select(BatchedReadTests.Row));
            return rows;
        }

        using var ownThreads = NewRunner(shards);
        var expectedErrors = new List<Type?>();
        var expected = ReadAll(ownThreads, null, expectedErrors); // each read on a thread of its own (or inline)

        using var runner = NewRunner(shards);
        using var thread = new ReadThread();
        var errors = new List<Type?>();
        var rows = ReadAll(runner, thread, errors);

        Assert.Equal([null, typeof(CaptureFormatException), null], expectedErrors);
        Assert.Equal(expectedErrors, errors);
        Assert.True(expected.Count > 300, $"only {expected.Count} records");
        Assert.Equal(expected, rows);
    }

    [Theory]
    [InlineData(InlineWhenSmall, true)]
    [InlineData(OnTheOtherThread, false)]
    public void ASmallFileIsReadWhenTheReadIsMade(long inlineBelow, bool readAtOnce)
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        Assert.True(new FileInfo(path).Length < BackgroundFileRead.InlineBelow);
        using var whole = NewRunner(0);
        int total = whole.ReadFile(path).Count();
        using var runner = NewRunner(0);
        using var reader = CaptureReader.Open(path);
        // One record a chunk, one chunk waiting: a read on the other thread waits for a taker after two records.
        using var read = new BackgroundFileRead(runner, reader, chunkSize: 1, maxChunksWaiting: 1, inlineBelow: inlineBelow);
        Assert.Equal(readAtOnce, runner.PacketsRead == whole.PacketsRead);
        var (rows, _, error) = TakeAll(read);
        Assert.Null(error);
        Assert.Equal(total, rows.Count);
    }

    [Fact]
    public void AReadThreadRunsOneReadAtATime()
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        using var runner = NewRunner(0);
        using var other = NewRunner(0);
        using var thread = new ReadThread();
        using var reader = CaptureReader.Open(path);
        using var otherReader = CaptureReader.Open(path);
        // One record per chunk and one chunk waiting: the first read soon waits for a taker, so it is still running.
        using (var read = new BackgroundFileRead(runner, reader, chunkSize: 1, maxChunksWaiting: 1, thread, OnTheOtherThread))
        {
            Assert.True(read.TryTake(TimeSpan.FromSeconds(30), CancellationToken.None, out var chunk) && chunk is { Count: 1 });
            Assert.Throws<InvalidOperationException>(() => new BackgroundFileRead(other, otherReader, 1, 1, thread, OnTheOtherThread));
        }
        // Disposed, the first read has ended and the thread takes the next.
        using (var next = new BackgroundFileRead(other, otherReader, 1, 1, thread, OnTheOtherThread))
            Assert.Null(TakeAll(next).Error);
        thread.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new BackgroundFileRead(other, otherReader, 1, 1, thread, OnTheOtherThread));
    }

    [Theory]
    [InlineData(OnTheOtherThread)]
    [InlineData(InlineWhenSmall)]
    public void DamagedFileHandsOverTheRecordsBeforeTheDamageThenItsError(long inlineBelow)
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);   // cut inside a packet record

        using var expectedRunner = NewRunner(0);
        var beforeThrow = new List<string>();
        Assert.Throws<CaptureFormatException>(() => { foreach (var r in expectedRunner.ReadFile(path)) beforeThrow.Add(BatchedReadTests.Row(r)); });

        using var runner = NewRunner(0);
        List<string> rows;
        Exception? error;
        using (var reader = CaptureReader.Open(path))
        using (var read = new BackgroundFileRead(runner, reader, BackgroundFileRead.ChunkSize, BackgroundFileRead.MaxChunksWaiting, inlineBelow: inlineBelow))
            (rows, _, error) = TakeAll(read);

        var format = Assert.IsType<CaptureFormatException>(error);
        Assert.Equal(CaptureProblem.Truncated, format.Problem);
        Assert.NotEmpty(rows);
        Assert.Equal(beforeThrow, rows);
        // Nothing tracked is lost: the connections still open come out at the end, as after ReadFile.
        Assert.Equal(expectedRunner.Finish().Select(BatchedReadTests.Row), runner.Finish().Select(BatchedReadTests.Row));
    }

    [Fact]
    public void DisposedWhileNobodyTakesItStopsTheReadAndFreesTheRunner()
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        using var whole = NewRunner(0);
        int total = whole.ReadFile(path).Count() + whole.Finish().Count();

        using var runner = NewRunner(0);
        using var reader = CaptureReader.Open(path);
        var read = new BackgroundFileRead(runner, reader, chunkSize: 1, maxChunksWaiting: 1, inlineBelow: OnTheOtherThread);
        // Two records fill the hand-over (one waiting, one held): the read then waits for a taker that never comes.
        Assert.True(read.TryTake(TimeSpan.FromSeconds(30), CancellationToken.None, out var first) && first is { Count: 1 });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long seen;
        do
        {
            seen = runner.PacketsRead;
            Thread.Sleep(50);
        } while (runner.PacketsRead != seen && DateTime.UtcNow < deadline);
        read.Dispose();

        long stoppedAt = runner.PacketsRead;
        Assert.True(stoppedAt < whole.PacketsRead, $"read {stoppedAt} of {whole.PacketsRead} packets though nobody took the records");
        Assert.Equal(stoppedAt, runner.PacketsRead);
        // The runner is the caller's again: the rest of the file and the end of the trace give every connection once.
        bool more;
        do more = runner.ProcessNextBatch(reader); while (more);
        int after = 0;
        while (runner.TryTakeFinished(out _)) after++;
        after += runner.Finish().Count();
        Assert.Equal(whole.PacketsRead, runner.PacketsRead);
        // Taken: 1; dropped with the hand-over when disposed: the ones waiting and held (at most 2).
        Assert.InRange(total - 1 - after, 0, 2);
    }

    [Fact]
    public void TakingStopsWaitingWhenCancelled()
    {
        var path = BatchedReadTests.WriteCapture(_dir);
        using var runner = NewRunner(0);
        using var reader = CaptureReader.Open(path);
        using var read = new BackgroundFileRead(runner, reader, BackgroundFileRead.ChunkSize, BackgroundFileRead.MaxChunksWaiting, inlineBelow: OnTheOtherThread);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var started = DateTime.UtcNow;
        Assert.False(read.TryTake(TimeSpan.FromSeconds(30), cancel.Token, out var chunk));
        Assert.Null(chunk);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }
}

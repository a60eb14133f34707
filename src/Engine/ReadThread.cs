namespace ConnTrack.Engine;

/// <summary>
/// A thread of the engine's that runs one <see cref="BackgroundFileRead"/> after another, so a trace over many files
/// does not make and join a thread for each (about 0.2 ms a thread on a 2-vCPU VM; a capture rotated every few
/// megabytes reads in a few milliseconds a file). One read at a time: the next starts once the one before has been
/// disposed.
/// </summary>
public sealed class ReadThread : IDisposable
{
    private readonly Thread _thread;
    private readonly SemaphoreSlim _started = new(0);
    private readonly ManualResetEventSlim _idle = new(true);
    private Action? _job;
    private bool _disposed;

    public ReadThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "ConnTrack read" };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="job"/> on the thread; the job before it must have ended (<see cref="WaitIdle"/>).</summary>
    internal void Run(Action job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idle.IsSet)
            throw new InvalidOperationException("A read is still running on this thread.");
        _idle.Reset();
        _job = job;
        _started.Release();
    }

    /// <summary>Waits for the job running now, if any, to end.</summary>
    internal void WaitIdle() => _idle.Wait();

    /// <summary>Waits for the job running now to end, then ends the thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _idle.Wait();
        _job = null;
        _started.Release(); // no job: the loop ends
        _thread.Join();
        _started.Dispose();
        _idle.Dispose();
    }

    private void Loop()
    {
        while (true)
        {
            _started.Wait();
            var job = _job;
            _job = null;
            if (job is null)
                return;
            try
            {
                job();
            }
            finally
            {
                _idle.Set();
            }
        }
    }
}

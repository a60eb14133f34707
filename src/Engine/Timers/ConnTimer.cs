namespace ConnTrack.Engine.Timers;

/// <summary>The connection timers Zeek schedules (Timer.h's TIMER_* kinds that matter for conn.log).</summary>
internal enum ConnTimerKind : byte
{
    /// <summary>Conn::InactivityTimer: no packet for the inactivity timeout.</summary>
    Inactivity,
    /// <summary>TCP ExpireTimer: first at tcp_SYN_timeout, then every tcp_session_timer.</summary>
    TcpExpire,
    /// <summary>TCP AttemptTimer: an unanswered SYN after tcp_attempt_delay.</summary>
    TcpAttempt,
    /// <summary>TCP ConnDeleteTimer: tcp_close_delay after both sides closed.</summary>
    TcpCloseDelete,
    /// <summary>The DNS analyzer's ExpireTimer on a UDP DNS connection: dns_session_timeout of silence.</summary>
    DnsExpire,
}

/// <summary>A scheduled timer. The generation cancels it lazily: a stale one is skipped when it comes due.</summary>
internal readonly record struct ConnTimer(Tracking.Connection Conn, ConnTimerKind Kind, int Generation, long Time);

/// <summary>
/// Timers ordered by packet time (ties in arming order), advanced like Zeek's TimerMgr::Advance. Timers are
/// armed per connection event, never per packet; a live connection's inactivity timer is re-checked and
/// re-armed only when it comes due (the Retina/Zeek lazy scheme), so a packet costs O(1) here.
/// </summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<ConnTimer, (long time, long seq)> _queue = new();
    private long _seq;

    public int Count => _queue.Count;

    public void Add(in ConnTimer timer) => _queue.Enqueue(timer, (timer.Time, _seq++));

    public bool TryTakeDue(long now, out ConnTimer timer)
    {
        if (_queue.TryPeek(out timer, out var prio) && prio.time <= now)
        {
            _queue.Dequeue();
            return true;
        }
        timer = default;
        return false;
    }

    public void Clear() => _queue.Clear();
}

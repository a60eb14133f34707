using ConnTrack.Engine.Config;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Records;

namespace ConnTrack.Engine.Tracking;

/// <summary>Receives each connection's record when it ends.</summary>
public interface IConnSink
{
    void Write(ConnRecord record);
}

/// <summary>
/// The connection table: one lookup per packet, Zeek's TCP/UDP/ICMP state, timers on packet time,
/// a record handed to the sink when a connection ends.
/// </summary>
public sealed class ConnTracker
{
    public ConnTracker(ConnTrackOptions options, IConnSink sink)
    {
        Options = options;
        Sink = sink;
    }

    public ConnTrackOptions Options { get; }
    public IConnSink Sink { get; }

    /// <summary>Connections currently tracked.</summary>
    public int OpenConnections => 0;

    /// <summary>Tracks one packet (and first expires the timers due at its time).</summary>
    public void Process(in PacketSummary packet) => throw new NotImplementedException("tracker: see issue 2");

    /// <summary>Moves the clock to <paramref name="now"/> (ns) without a packet, expiring what is due (live capture).</summary>
    public void AdvanceTime(long now) => throw new NotImplementedException("tracker: see issue 2");

    /// <summary>Ends every open connection, as Zeek does at the end of its input.</summary>
    public void FlushAll() => throw new NotImplementedException("tracker: see issue 2");
}

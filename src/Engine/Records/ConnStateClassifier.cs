using System.Runtime.CompilerServices;
using ConnTrack.Engine.Tracking.Tcp;

namespace ConnTrack.Engine.Records;

/// <summary>
/// conn.log's conn_state: a pure function of the two endpoint states, the sizes and the history, exactly as
/// Zeek's base/protocols/conn/main.zeek derives it at removal time.
/// </summary>
public static class ConnStateClassifier
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    public static string Tcp(TcpEndpointState orig, TcpEndpointState resp, ulong origSize, ulong respSize, string history)
    {
        bool origInactive = orig is TcpEndpointState.Inactive or TcpEndpointState.Partial;
        bool respInactive = resp is TcpEndpointState.Inactive or TcpEndpointState.Partial;

        if (resp == TcpEndpointState.Reset)
        {
            if (orig is TcpEndpointState.SynSent or TcpEndpointState.SynAckSent ||
                (orig == TcpEndpointState.Reset && origSize == 0 && respSize == 0))
                return "REJ";
            return origInactive ? "RSTRH" : "RSTR";
        }
        if (orig == TcpEndpointState.Reset)
        {
            if (respInactive)
                return IsSynThenReset(history) ? "RSTOS0" : "OTH";
            return "RSTO";
        }
        if (resp == TcpEndpointState.Closed && orig == TcpEndpointState.Closed) return "SF";
        if (orig == TcpEndpointState.Closed) return respInactive ? "SH" : "S2";
        if (resp == TcpEndpointState.Closed) return origInactive ? "SHR" : "S3";
        if (orig == TcpEndpointState.SynSent && resp == TcpEndpointState.Inactive) return "S0";
        if (orig == TcpEndpointState.Established && resp == TcpEndpointState.Established) return "S1";
        return "OTH";
    }

    /// <summary>UDP: an endpoint is active once it sent a datagram that passed the checksum check.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    public static string Udp(bool origActive, bool respActive) =>
        origActive ? (respActive ? "SF" : "S0") : (respActive ? "SHR" : "OTH");

    /// <summary>Zeek's <c>/\^?S[^HAFGIQ]*R.*/ == history</c>: an optional flip mark, a SYN, then a RST with no handshake, ack, FIN, gap, inconsistency or multi-flag packet between.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per record: never tiered (see ConnTracker.Process)
    public static bool IsSynThenReset(string history)
    {
        int i = 0;
        if (i < history.Length && history[i] == '^') i++;
        if (i >= history.Length || history[i] != 'S') return false;
        for (i++; i < history.Length; i++)
        {
            char c = history[i];
            if (c == 'R') return true;
            if (c is 'H' or 'A' or 'F' or 'G' or 'I' or 'Q') return false;
        }
        return false;
    }
}

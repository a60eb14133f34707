using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ConnTrack.Bench.Generator;

/// <summary>
/// Deterministic synthetic traffic: <see cref="GeneratorOptions.Concurrency"/> conversations open at once,
/// interleaved flight by flight, each replaced by a new one when it ends. TCP sequence and acknowledgment
/// numbers are consistent, every checksum is valid, and no frame allocates: templates are copied and patched.
/// </summary>
public sealed class CaptureGenerator
{
    /// <summary>Bump whenever the bytes generated for given options change (reused files are named by it).</summary>
    public const int Version = 1;

    private const int Mss = 1448;
    private const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;

    // TCP phases.
    private const byte PSyn = 0, PSynAck = 1, PAckAndRequest = 2, PServerAckRequest = 3, PRequest = 4,
        PResponse = 5, PClientAcks = 6, PFin1 = 7, PFin2 = 8, PFin3 = 9, PRstAck = 10, PSynRetransmit = 11;

    private readonly GeneratorOptions _options;
    private readonly IFrameSink _sink;
    private readonly GeneratorStats _stats = new();
    private readonly byte[] _frame = new byte[2048];
    private readonly byte[] _payload = new byte[1 << 16];
    private readonly ulong[] _payloadPrefix; // _payloadPrefix[i]: sum of the first i big-endian 16-bit words
    private readonly Session[] _sessions;
    private FastRandom _rng;
    private int _active;
    private long _nextSessionNumber;
    private double _clock;
    private ushort _ipId;
    private bool _stopped;

    public CaptureGenerator(GeneratorOptions options, IFrameSink sink)
    {
        if (options.Concurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "Concurrency must be at least 1.");
        _options = options;
        _sink = sink;
        _rng = new FastRandom(options.Seed);
        _sessions = new Session[options.Concurrency];
        for (int i = 0; i < _payload.Length; i++)
            _payload[i] = (byte)_rng.NextU32();
        _payloadPrefix = new ulong[_payload.Length / 2 + 1];
        for (int i = 0; i < _payload.Length / 2; i++)
            _payloadPrefix[i + 1] = _payloadPrefix[i] + BinaryPrimitives.ReadUInt16BigEndian(_payload.AsSpan(i * 2));
        _clock = options.StartTimeNs;
        _stats.FirstTimestampNs = options.StartTimeNs;
    }

    /// <summary>Generates until the packet (or byte) limit, writing every frame to the sink.</summary>
    public GeneratorStats Run()
    {
        while (!_stopped)
        {
            int slot;
            if (_active < _sessions.Length && (_active == 0 || (_rng.NextU32() & 1) == 0))
            {
                slot = _active++;
                StartSession(ref _sessions[slot]);
                if (_active > _stats.MaxOpen)
                    _stats.MaxOpen = _active;
            }
            else
            {
                slot = _rng.Next(_active);
            }

            _clock += _rng.Exponential(_options.MeanFlightGapNs);
            if (!Step(ref _sessions[slot]))
            {
                // Finished: the last open session takes its slot.
                _sessions[slot] = _sessions[--_active];
            }
        }
        return _stats;
    }

    /// <summary>
    /// Generates <paramref name="count"/> SYNs from distinct clients to a few servers, 1 µs apart: the
    /// memory probe's million half-open connections. Returns the stats.
    /// </summary>
    public GeneratorStats RunSynFlood(long count)
    {
        for (long n = 0; n < count && !_stopped; n++)
        {
            var s = new Session();
            StartSession(ref s, SessionKind.TcpUnanswered);
            _clock += 1000;
            EmitTcp(ref s, fromClient: true, Syn, s.CSeq - 1, 0, 0);
        }
        return _stats;
    }

    /// <summary>
    /// Generates <paramref name="count"/> established TCP connections with distinct tuples that each carried data
    /// both ways and stay open (SYN, SYN-ACK, ACK, a client segment, a server segment acking it, the client's
    /// ack: 6 packets, 1 µs apart): the memory probe's established case. Returns the stats.
    /// </summary>
    public GeneratorStats RunEstablished(long count)
    {
        for (long n = 0; n < count && !_stopped; n++)
        {
            var s = new Session();
            StartSession(ref s, SessionKind.TcpNormal);
            uint c = s.CSeq, v = s.SSeq;
            _clock += 1000;
            EmitTcp(ref s, fromClient: true, Syn, c - 1, 0, 0);
            _clock += 1000;
            EmitTcp(ref s, fromClient: false, Syn | Ack, v - 1, c, 0);
            _clock += 1000;
            EmitTcp(ref s, fromClient: true, Ack, c, v, 0);
            _clock += 1000;
            EmitTcp(ref s, fromClient: true, Psh | Ack, c, v, 100);
            _clock += 1000;
            EmitTcp(ref s, fromClient: false, Psh | Ack, v, c + 100, 300);
            _clock += 1000;
            EmitTcp(ref s, fromClient: true, Ack, c + 100, v + 300, 0);
        }
        return _stats;
    }

    private void StartSession(ref Session s, SessionKind? kind = null)
    {
        long n = _nextSessionNumber++;
        s = default;
        s.Number = n;
        // Distinct tuples: 65,536 client hosts (a fixed odd multiplier permutes them), ports advancing
        // every 65,536 sessions; a tuple comes back only after 4 billion sessions.
        s.Client = (int)((uint)(n * 40503) & 0xFFFF);
        s.ClientPort = (ushort)(1024 + (n >> 16) % 64512);
        double u = _rng.NextDouble();
        s.Server = (int)(4096 * u * u * u); // a few popular servers, a long tail
        s.V6 = _rng.Chance(_options.Ipv6Share);

        int r = _rng.Next(1000);
        s.Kind = kind ?? r switch
        {
            < 700 => SessionKind.TcpNormal,
            < 750 => SessionKind.TcpRejected,
            < 800 => SessionKind.TcpUnanswered,
            < 850 => SessionKind.TcpReset,
            < 970 => SessionKind.Udp,
            _ => SessionKind.IcmpEcho,
        };

        switch (s.Kind)
        {
            case SessionKind.Udp:
                s.ServerPort = (ushort)(_rng.Chance(0.9) ? 53 : 123);
                s.NoReply = _rng.Chance(0.05);
                s.Aux = (ushort)_rng.NextU32();
                break;
            case SessionKind.IcmpEcho:
                s.ClientPort = 0;
                s.ServerPort = 0;
                s.NoReply = _rng.Chance(0.1);
                s.Aux = (ushort)_rng.NextU32();
                s.Rounds = _rng.Between(1, 4);
                break;
            default:
                int p = _rng.Next(100);
                s.ServerPort = p switch
                {
                    < 60 => 443,
                    < 85 => 80,
                    < 88 => 22,
                    < 91 => 25,
                    < 95 => 8080,
                    < 97 => 3306,
                    _ => (ushort)_rng.Between(1025, 65535),
                };
                s.CSeq = _rng.NextU32();
                s.SSeq = _rng.NextU32();
                s.Rounds = _rng.Chance(0.8) ? 1 : _rng.Between(2, 5);
                s.ClientCloses = _rng.Chance(0.6);
                s.CwndC = 2;
                s.CwndS = 4;
                NewRequest(ref s);
                if (s.Kind == SessionKind.TcpReset)
                    s.ResetAfter = _rng.Between(0, 12);
                break;
        }

        _stats.Connections++;
        _stats.ByKind[(int)s.Kind]++;
        if (s.V6)
            _stats.Ipv6Connections++;
    }

    private void NewRequest(ref Session s)
    {
        s.ReqLeft = _rng.Chance(0.03) ? _rng.LogUniform(4_000, 400_000) : _rng.Between(80, 900);
        s.RespLeft = _rng.Chance(0.03) ? _rng.LogUniform(64_000, 2_000_000) : _rng.LogUniform(100, 64_000);
    }

    /// <summary>Emits the session's next flight. Returns false when the conversation is over.</summary>
    private bool Step(ref Session s)
    {
        switch (s.Kind)
        {
            case SessionKind.Udp:
                return StepUdp(ref s);
            case SessionKind.IcmpEcho:
                return StepIcmp(ref s);
            default:
                return StepTcp(ref s);
        }
    }

    private bool StepTcp(ref Session s)
    {
        switch (s.Phase)
        {
            case PSyn:
                EmitTcp(ref s, true, Syn, s.CSeq, 0, 0);
                s.CSeq++;
                s.Phase = s.Kind switch
                {
                    SessionKind.TcpRejected => PRstAck,
                    SessionKind.TcpUnanswered => PSynRetransmit,
                    _ => PSynAck,
                };
                return true;
            case PSynRetransmit:
                if (_rng.Chance(0.5))
                    return false; // gave up after one SYN
                EmitTcp(ref s, true, Syn, s.CSeq - 1, 0, 0);
                return false;
            case PRstAck:
                EmitTcp(ref s, false, Rst | Ack, 0, s.CSeq, 0);
                return false;
            case PSynAck:
                EmitTcp(ref s, false, Syn | Ack, s.SSeq, s.CSeq, 0);
                s.SSeq++;
                s.Phase = PAckAndRequest;
                return true;
            case PAckAndRequest:
                EmitTcp(ref s, true, Ack, s.CSeq, s.SSeq, 0);
                return ClientRequestFlight(ref s);
            case PRequest:
                return ClientRequestFlight(ref s);
            case PServerAckRequest:
                EmitTcp(ref s, false, Ack, s.SSeq, s.CSeq, 0);
                s.Phase = PRequest;
                return true;
            case PResponse:
            {
                int segments = 0;
                while (segments < s.CwndS && s.RespLeft > 0)
                {
                    if (s.Kind == SessionKind.TcpReset && s.SegmentsSent >= s.ResetAfter)
                        return SendReset(ref s);
                    int len = Math.Min(Mss, s.RespLeft);
                    s.RespLeft -= len;
                    EmitTcp(ref s, false, s.RespLeft == 0 ? (byte)(Psh | Ack) : Ack, s.SSeq, s.CSeq, len);
                    s.SSeq += (uint)len;
                    segments++;
                    s.SegmentsSent++;
                }
                s.Unacked = segments;
                s.CwndS = Math.Min(s.CwndS * 2, 44);
                s.Phase = PClientAcks;
                return true;
            }
            case PClientAcks:
            {
                // Delayed ACKs: one per two segments, the last one covering everything.
                int acks = (s.Unacked + 1) / 2;
                for (int i = 1; i <= acks; i++)
                {
                    uint ack = i == acks ? s.SSeq : s.SSeq - (uint)((s.Unacked - 2 * i) * Mss);
                    EmitTcp(ref s, true, Ack, s.CSeq, ack, 0);
                }
                s.Unacked = 0;
                if (s.RespLeft > 0)
                {
                    s.Phase = PResponse;
                }
                else if (--s.Rounds > 0)
                {
                    NewRequest(ref s);
                    s.Phase = PRequest;
                }
                else
                {
                    s.Phase = PFin1;
                }
                return true;
            }
            case PFin1:
                if (s.ClientCloses)
                    EmitTcp(ref s, true, Fin | Ack, s.CSeq++, s.SSeq, 0);
                else
                    EmitTcp(ref s, false, Fin | Ack, s.SSeq++, s.CSeq, 0);
                s.Phase = PFin2;
                return true;
            case PFin2:
                if (s.ClientCloses)
                    EmitTcp(ref s, false, Fin | Ack, s.SSeq++, s.CSeq, 0);
                else
                    EmitTcp(ref s, true, Fin | Ack, s.CSeq++, s.SSeq, 0);
                s.Phase = PFin3;
                return true;
            default: // PFin3
                if (s.ClientCloses)
                    EmitTcp(ref s, true, Ack, s.CSeq, s.SSeq, 0);
                else
                    EmitTcp(ref s, false, Ack, s.SSeq, s.CSeq, 0);
                return false;
        }
    }

    private bool ClientRequestFlight(ref Session s)
    {
        int segments = 0;
        while (segments < s.CwndC && s.ReqLeft > 0)
        {
            if (s.Kind == SessionKind.TcpReset && s.SegmentsSent >= s.ResetAfter)
                return SendReset(ref s);
            int len = Math.Min(Mss, s.ReqLeft);
            s.ReqLeft -= len;
            EmitTcp(ref s, true, s.ReqLeft == 0 ? (byte)(Psh | Ack) : Ack, s.CSeq, s.SSeq, len);
            s.CSeq += (uint)len;
            segments++;
            s.SegmentsSent++;
        }
        s.CwndC = Math.Min(s.CwndC * 2, 44);
        // A request that needs more flights gets a bare ACK first; otherwise the response acknowledges it.
        s.Phase = s.ReqLeft > 0 ? PServerAckRequest : PResponse;
        return true;
    }

    private bool SendReset(ref Session s)
    {
        if (_rng.Chance(0.5))
            EmitTcp(ref s, true, Rst, s.CSeq, 0, 0);
        else
            EmitTcp(ref s, false, Rst | Ack, s.SSeq, s.CSeq, 0);
        return false;
    }

    private bool StepUdp(ref Session s)
    {
        bool dns = s.ServerPort == 53;
        if (s.Phase == 0)
        {
            EmitUdp(ref s, true, dns ? 33 : 48);
            s.Phase = 1;
            return !s.NoReply;
        }
        EmitUdp(ref s, false, dns ? 49 : 48);
        return false;
    }

    private bool StepIcmp(ref Session s)
    {
        if (s.Phase == 0)
        {
            s.IcmpSeq++;
            EmitIcmp(ref s, true);
            if (s.NoReply)
                return --s.Rounds > 0;
            s.Phase = 1;
            return true;
        }
        EmitIcmp(ref s, false);
        s.Phase = 0;
        return --s.Rounds > 0;
    }

    // ---- Frame assembly -------------------------------------------------------------------------------------

    private int BeginFrame(ref Session s, TemplateKind kind, bool fromClient, int l4Length)
    {
        var frame = _frame.AsSpan();
        var template = FrameTemplates.Get(kind, s.V6);
        template.CopyTo(frame);

        // MACs: each client host has its own; the other side is the gateway.
        Span<byte> hostMac = frame.Slice(fromClient ? 6 : 0, 6);
        hostMac[3] = (byte)(s.Client >> 16);
        hostMac[4] = (byte)(s.Client >> 8);
        hostMac[5] = (byte)s.Client;
        if (!fromClient)
        {
            frame[6 + 5] = 0xFE; // gateway as source
            frame[6 + 4] = 0xFF;
            frame[6 + 3] = 0xFF;
        }

        const int ip = FrameTemplates.EthernetLength;
        byte ttl = fromClient ? (byte)64 : (byte)(50 + (s.Server & 7));
        if (s.V6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[(ip + 4)..], (ushort)l4Length);
            frame[ip + 7] = ttl;
            WriteV6(frame.Slice(fromClient ? ip + 8 : ip + 24, 16), 0xFD000001_00000000UL, (uint)s.Client);
            WriteV6(frame.Slice(fromClient ? ip + 24 : ip + 8, 16), 0x20010DB8_00000000UL, (uint)s.Server);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[(ip + 2)..], (ushort)(FrameTemplates.Ipv4Length + l4Length));
            BinaryPrimitives.WriteUInt16BigEndian(frame[(ip + 4)..], _ipId++);
            frame[ip + 8] = ttl;
            uint client = 0x0A010000u | (uint)s.Client;          // 10.1.0.0/16
            uint server = 0xC6120000u | (uint)s.Server;          // 198.18.0.0/15 (benchmarking range)
            BinaryPrimitives.WriteUInt32BigEndian(frame[(ip + 12)..], fromClient ? client : server);
            BinaryPrimitives.WriteUInt32BigEndian(frame[(ip + 16)..], fromClient ? server : client);
            frame[ip + 10] = 0;
            frame[ip + 11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(frame[(ip + 10)..], Fold(Sum(frame.Slice(ip, FrameTemplates.Ipv4Length), 0)));
        }
        return FrameTemplates.L4Offset(s.V6);
    }

    private static void WriteV6(Span<byte> dst, ulong prefix, uint host)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dst, prefix);
        BinaryPrimitives.WriteUInt64BigEndian(dst[8..], host + 1UL);
    }

    private void EmitTcp(ref Session s, bool fromClient, byte flags, uint seq, uint ack, int payloadLength)
    {
        if (_stopped)
            return;
        bool syn = (flags & Syn) != 0;
        int headerLength = syn ? FrameTemplates.TcpLength + FrameTemplates.SynOptionsLength : FrameTemplates.TcpLength;
        int l4Length = headerLength + payloadLength;
        int l4 = BeginFrame(ref s, syn ? TemplateKind.TcpSyn : TemplateKind.Tcp, fromClient, l4Length);
        var frame = _frame.AsSpan();
        var tcp = frame.Slice(l4, headerLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, fromClient ? s.ClientPort : s.ServerPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], fromClient ? s.ServerPort : s.ClientPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], syn ? (ushort)64240 : (ushort)502);
        tcp[16] = 0;
        tcp[17] = 0;

        int payloadOffset = 0;
        if (payloadLength > 0)
        {
            payloadOffset = (int)(_rng.NextU32() % (uint)((_payload.Length - payloadLength) / 2)) * 2;
            _payload.AsSpan(payloadOffset, payloadLength).CopyTo(frame[(l4 + headerLength)..]);
        }

        ulong sum = PseudoHeaderSum(frame, s.V6, 6, l4Length) + Sum(tcp, 0) + PayloadSum(payloadOffset, payloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Fold(sum));
        Deliver(l4 + l4Length);
    }

    private void EmitUdp(ref Session s, bool fromClient, int payloadLength)
    {
        if (_stopped)
            return;
        int l4Length = FrameTemplates.UdpLength + payloadLength;
        int l4 = BeginFrame(ref s, TemplateKind.Udp, fromClient, l4Length);
        var frame = _frame.AsSpan();
        var udp = frame.Slice(l4, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp, fromClient ? s.ClientPort : s.ServerPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], fromClient ? s.ServerPort : s.ClientPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)l4Length);
        udp[6] = 0;
        udp[7] = 0;
        var payload = udp[FrameTemplates.UdpLength..];
        if (s.ServerPort == 53)
            WriteDns(payload, s.Aux, response: !fromClient);
        else
            WriteNtp(payload, response: !fromClient);

        ushort checksum = Fold(PseudoHeaderSum(frame, s.V6, 17, l4Length) + Sum(udp, 0));
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
        Deliver(l4 + l4Length);
    }

    private static ReadOnlySpan<byte> DnsQuestion =>
        [3, (byte)'w', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e',
         3, (byte)'c', (byte)'o', (byte)'m', 0, 0, 1, 0, 1];

    private static void WriteDns(Span<byte> p, ushort id, bool response)
    {
        BinaryPrimitives.WriteUInt16BigEndian(p, id);
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], response ? (ushort)0x8180 : (ushort)0x0100);
        BinaryPrimitives.WriteUInt16BigEndian(p[4..], 1);                        // questions
        BinaryPrimitives.WriteUInt16BigEndian(p[6..], response ? (ushort)1 : (ushort)0); // answers
        BinaryPrimitives.WriteUInt32BigEndian(p[8..], 0);
        DnsQuestion.CopyTo(p[12..]);
        if (!response)
            return;
        var a = p[33..];
        BinaryPrimitives.WriteUInt16BigEndian(a, 0xC00C);   // name: pointer to the question
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], 1);   // A
        BinaryPrimitives.WriteUInt16BigEndian(a[4..], 1);   // IN
        BinaryPrimitives.WriteUInt32BigEndian(a[6..], 300); // TTL
        BinaryPrimitives.WriteUInt16BigEndian(a[10..], 4);
        BinaryPrimitives.WriteUInt32BigEndian(a[12..], 0x5DB8D822); // 93.184.216.34
    }

    private void WriteNtp(Span<byte> p, bool response)
    {
        p.Clear();
        p[0] = response ? (byte)0x24 : (byte)0x23; // v4, mode server / client
        BinaryPrimitives.WriteUInt64BigEndian(p[40..], (ulong)_clock);
    }

    private void EmitIcmp(ref Session s, bool request)
    {
        if (_stopped)
            return;
        const int data = 56;
        int l4Length = FrameTemplates.IcmpEchoLength + data;
        int l4 = BeginFrame(ref s, TemplateKind.Icmp, request, l4Length);
        var frame = _frame.AsSpan();
        var icmp = frame.Slice(l4, l4Length);
        icmp[0] = s.V6 ? (request ? (byte)128 : (byte)129) : (request ? (byte)8 : (byte)0);
        icmp[1] = 0;
        icmp[2] = 0;
        icmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], s.Aux);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], s.IcmpSeq);
        for (int i = 0; i < data; i++)
            icmp[8 + i] = (byte)(0x10 + i);
        ulong sum = Sum(icmp, 0);
        if (s.V6)
            sum += PseudoHeaderSum(frame, true, 58, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Fold(sum));
        Deliver(l4 + l4Length);
    }

    private void Deliver(int length)
    {
        long ts = (long)_clock;
        _clock += 1_200; // back-to-back packets of one flight: about a full-size frame at 10 Gb/s
        _sink.Write(ts, _frame.AsSpan(0, length));
        _stats.Packets++;
        _stats.PcapBytes += PcapFileSink.RecordHeaderLength + length;
        _stats.LastTimestampNs = ts;
        if (_stats.Packets >= _options.Packets || (_options.MaxPcapBytes > 0 && _stats.PcapBytes >= _options.MaxPcapBytes))
            _stopped = true;
    }

    // ---- Internet checksum (RFC 1071) -----------------------------------------------------------------------

    private static ulong PseudoHeaderSum(ReadOnlySpan<byte> frame, bool v6, int protocol, int l4Length)
    {
        const int ip = FrameTemplates.EthernetLength;
        return v6
            ? Sum(frame.Slice(ip + 8, 32), 0) + (ulong)l4Length + (ulong)protocol
            : Sum(frame.Slice(ip + 12, 8), 0) + (ulong)l4Length + (ulong)protocol;
    }

    private ulong PayloadSum(int offset, int length)
    {
        if (length == 0)
            return 0;
        int words = length / 2;
        ulong sum = _payloadPrefix[offset / 2 + words] - _payloadPrefix[offset / 2];
        if ((length & 1) != 0)
            sum += (ulong)_payload[offset + length - 1] << 8;
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Sum(ReadOnlySpan<byte> data, ulong acc)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            acc += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            acc += (ulong)data[i] << 8;
        return acc;
    }

    internal static ushort Fold(ulong sum)
    {
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    private struct Session
    {
        public long Number;
        public SessionKind Kind;
        public byte Phase;
        public bool V6;
        public bool ClientCloses;
        public bool NoReply;
        public int Client;
        public int Server;
        public ushort ClientPort;
        public ushort ServerPort;
        public uint CSeq;  // next sequence number the client sends
        public uint SSeq;  // next sequence number the server sends
        public int ReqLeft;
        public int RespLeft;
        public int CwndC;
        public int CwndS;
        public int Unacked;
        public int Rounds;
        public int SegmentsSent;
        public int ResetAfter;
        public ushort Aux;     // DNS id or ICMP echo id
        public ushort IcmpSeq;
    }
}

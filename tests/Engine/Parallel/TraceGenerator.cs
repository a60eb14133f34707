using ConnTrack.Engine.Capture;
using ConnTrack.Engine.Tests.Decoding;

namespace ConnTrack.Engine.Tests.Parallel;

/// <summary>
/// A deterministic synthetic trace for the parallel tests: many interleaved connections of every kind whose
/// endings depend on timers (unanswered SYNs, idle UDP, closes, resets, reuse of a tuple, a long quiet gap),
/// over a few small address pools so tuples repeat, a few bad checksums, and timestamps slightly out of order.
/// </summary>
internal static class TraceGenerator
{
    private const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;
    private const long Second = 1_000_000_000L;
    private static readonly long Start = 1_700_000_000L * Second;

    public static byte[] Generate(int seed, int connections)
    {
        var rnd = new Random(seed);
        var packets = new List<(long Time, int Seq, byte[] Frame)>();
        int seq = 0;
        void Add(long t, byte[] frame) => packets.Add((t, seq++, frame));

        for (int c = 0; c < connections; c++)
        {
            // Starts spread over 15 minutes, with a quiet stretch of 3 minutes in the middle.
            long t = Start + (long)(rnd.NextDouble() * 900 * Second);
            if (t > Start + 400 * Second && t < Start + 580 * Second)
                t += 180 * Second;
            bool v6 = rnd.Next(10) == 0;
            string cli = v6 ? $"2001:db8::{rnd.Next(1, 40):x}" : $"10.0.{rnd.Next(0, 4)}.{rnd.Next(1, 60)}";
            string srv = v6 ? $"2001:db8:1::{rnd.Next(1, 8):x}" : $"192.168.1.{rnd.Next(1, 12)}";
            ushort cport = (ushort)(rnd.Next(3) == 0 ? 40000 + rnd.Next(20) : 1024 + rnd.Next(60000));
            int kind = rnd.Next(12);
            switch (kind)
            {
                case 0: case 1: case 2: case 3:
                    TcpSession(t, cli, srv, cport, (ushort)(rnd.Next(2) == 0 ? 80 : 443), rnd, Add, v6);
                    break;
                case 4:
                {
                    // Unanswered SYN with retransmissions: the attempt timer ends it (S0).
                    ushort sp = (ushort)(rnd.Next(2) == 0 ? 22 : 8080);
                    Add(t, Frame(Tcp(cli, srv, cport, sp, 1000, 0, Syn, v6), v6));
                    Add(t + 1 * Second, Frame(Tcp(cli, srv, cport, sp, 1000, 0, Syn, v6), v6));
                    Add(t + 3 * Second, Frame(Tcp(cli, srv, cport, sp, 1000, 0, Syn, v6), v6));
                    break;
                }
                case 5:
                    // Rejected (REJ).
                    Add(t, Frame(Tcp(cli, srv, cport, 25, 500, 0, Syn, v6), v6));
                    Add(t + Ms(rnd, 5), Frame(Tcp(srv, cli, 25, cport, 0, 501, (byte)(Rst | Ack), v6), v6));
                    break;
                case 6:
                {
                    // UDP request/response, sometimes a second exchange after the 60 s inactivity timeout.
                    ushort sp = (ushort)(rnd.Next(2) == 0 ? 53 : 123);
                    long at = t;
                    int rounds = rnd.Next(1, 4);
                    for (int i = 0; i < rounds; i++)
                    {
                        Add(at, Frame(Udp(cli, srv, cport, sp, rnd.Next(20, 80), v6), v6));
                        if (rnd.Next(4) != 0)
                            Add(at + Ms(rnd, 30), Frame(Udp(srv, cli, sp, cport, rnd.Next(40, 300), v6), v6));
                        at += rnd.Next(3) == 0 ? 70 * Second : Ms(rnd, 2000);
                    }
                    break;
                }
                case 7:
                {
                    // ICMP echo (request/reply pairs), or a one-way unreachable.
                    if (rnd.Next(3) == 0 && !v6)
                    {
                        Add(t, Frame(PacketBuilder.IPv4(srv, cli, 1, PacketBuilder.Icmp(3, 3, PacketBuilder.Bytes(28))), false));
                    }
                    else
                    {
                        int n = rnd.Next(1, 4);
                        for (int i = 0; i < n; i++)
                        {
                            long at = t + i * Second;
                            Add(at, Frame(Icmp(cli, srv, v6 ? (byte)128 : (byte)8, v6), v6));
                            Add(at + Ms(rnd, 20), Frame(Icmp(srv, cli, v6 ? (byte)129 : (byte)0, v6), v6));
                        }
                    }
                    break;
                }
                case 8:
                {
                    // Picked up mid-stream: data and acks with no handshake, sometimes a long idle stretch.
                    long at = t;
                    uint s1 = (uint)rnd.Next(), s2 = (uint)rnd.Next();
                    int n = rnd.Next(2, 6);
                    for (int i = 0; i < n; i++)
                    {
                        int len = rnd.Next(0, 400);
                        Add(at, Frame(Tcp(cli, srv, cport, 443, s1, s2, (byte)(Ack | Psh), v6, len), v6));
                        s1 += (uint)len;
                        Add(at + Ms(rnd, 10), Frame(Tcp(srv, cli, 443, cport, s2, s1, Ack, v6), v6));
                        at += rnd.Next(5) == 0 ? 400 * Second : Ms(rnd, 500);
                    }
                    break;
                }
                case 9:
                {
                    // Reset after the handshake (RSTO/RSTR), then the tuple reused by a new SYN (reuse ends the old one).
                    ushort sp = 8443;
                    Add(t, Frame(Tcp(cli, srv, cport, sp, 100, 0, Syn, v6), v6));
                    Add(t + Ms(rnd, 5), Frame(Tcp(srv, cli, sp, cport, 900, 101, (byte)(Syn | Ack), v6), v6));
                    Add(t + Ms(rnd, 10), Frame(Tcp(cli, srv, cport, sp, 101, 901, Ack, v6), v6));
                    bool origResets = rnd.Next(2) == 0;
                    Add(t + Ms(rnd, 200), origResets
                        ? Frame(Tcp(cli, srv, cport, sp, 101, 901, Rst, v6), v6)
                        : Frame(Tcp(srv, cli, sp, cport, 901, 101, Rst, v6), v6));
                    long again = t + (rnd.Next(2) == 0 ? 2 : 20) * Second;
                    Add(again, Frame(Tcp(cli, srv, cport, sp, 5000, 0, Syn, v6), v6));
                    Add(again + Ms(rnd, 5), Frame(Tcp(srv, cli, sp, cport, 7000, 5001, (byte)(Syn | Ack), v6), v6));
                    break;
                }
                case 10:
                {
                    // Bad checksums in the middle of a UDP flow and a TCP flow.
                    Add(t, Frame(Udp(cli, srv, cport, 514, 50, v6), v6));
                    Add(t + Ms(rnd, 100), Frame(Udp(cli, srv, cport, 514, 50, v6, bad: true), v6));
                    Add(t + Ms(rnd, 200) + 100 * 1000 * 1000, Frame(Udp(cli, srv, cport, 514, 60, v6), v6));
                    Add(t + Ms(rnd, 50), Frame(Tcp(cli, srv, (ushort)(cport ^ 1), 80, 7, 0, Syn, v6, bad: true), v6));
                    break;
                }
                default:
                {
                    // Some other IP protocol (GRE-numbered, no decoding): an "unknown" connection.
                    if (!v6)
                    {
                        Add(t, Frame(PacketBuilder.IPv4(cli, srv, 47, PacketBuilder.Bytes(24)), false));
                        Add(t + Ms(rnd, 50), Frame(PacketBuilder.IPv4(srv, cli, 47, PacketBuilder.Bytes(24)), false));
                    }
                    else
                    {
                        TcpSession(t, cli, srv, cport, 80, rnd, Add, v6);
                    }
                    break;
                }
            }
        }

        // Time order, but a packet in 50 is a little late (captures are not strictly ordered).
        packets.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Seq.CompareTo(b.Seq));
        var jitter = new Random(seed + 1);
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, LinkType.Ethernet, nanosecond: true, leaveOpen: true))
        {
            for (int i = 0; i < packets.Count; i++)
            {
                long time = packets[i].Time;
                if (jitter.Next(50) == 0)
                    time -= jitter.Next(1, 300) * 1000L * 1000L;
                w.WritePacket(packets[i].Frame, time);
            }
        }
        return ms.ToArray();
    }

    private static void TcpSession(long t, string cli, string srv, ushort cport, ushort sport, Random rnd,
        Action<long, byte[]> add, bool v6)
    {
        uint c = (uint)rnd.Next(), s = (uint)rnd.Next();
        add(t, Frame(Tcp(cli, srv, cport, sport, c, 0, Syn, v6), v6));
        long at = t + Ms(rnd, 40);
        add(at, Frame(Tcp(srv, cli, sport, cport, s, c + 1, (byte)(Syn | Ack), v6), v6));
        at += Ms(rnd, 40);
        c++; s++;
        add(at, Frame(Tcp(cli, srv, cport, sport, c, s, Ack, v6), v6));
        int exchanges = rnd.Next(1, 6);
        for (int i = 0; i < exchanges; i++)
        {
            int q = rnd.Next(20, 300), a = rnd.Next(100, 1400);
            at += Ms(rnd, 100);
            add(at, Frame(Tcp(cli, srv, cport, sport, c, s, (byte)(Ack | Psh), v6, q), v6));
            c += (uint)q;
            at += Ms(rnd, 60);
            add(at, Frame(Tcp(srv, cli, sport, cport, s, c, (byte)(Ack | Psh), v6, a), v6));
            s += (uint)a;
            if (rnd.Next(8) == 0) at += 90 * Second; // idle, still within the TCP inactivity timeout
        }
        switch (rnd.Next(4))
        {
            case 0: // orderly close by both
                at += Ms(rnd, 50);
                add(at, Frame(Tcp(cli, srv, cport, sport, c, s, (byte)(Fin | Ack), v6), v6));
                at += Ms(rnd, 50);
                add(at, Frame(Tcp(srv, cli, sport, cport, s, c + 1, (byte)(Fin | Ack), v6), v6));
                at += Ms(rnd, 50);
                add(at, Frame(Tcp(cli, srv, cport, sport, c + 1, s + 1, Ack, v6), v6));
                break;
            case 1: // half close: only the client's FIN
                at += Ms(rnd, 50);
                add(at, Frame(Tcp(cli, srv, cport, sport, c, s, (byte)(Fin | Ack), v6), v6));
                break;
            case 2: // reset by the server
                at += Ms(rnd, 50);
                add(at, Frame(Tcp(srv, cli, sport, cport, s, c, (byte)(Rst | Ack), v6), v6));
                break;
            default: // left open: ends by inactivity or at the end of the trace
                break;
        }
    }

    private static long Ms(Random rnd, int max) => rnd.Next(1, max) * 1000L * 1000L;

    private static byte[] Tcp(string src, string dst, ushort sp, ushort dp, uint seq, uint ack, byte flags, bool v6,
        int payload = 0, bool bad = false)
    {
        var seg = PacketBuilder.Tcp(src, dst, sp, dp, seq, ack, flags, 64240,
            payload: payload > 0 ? PacketBuilder.Bytes(payload) : null, badChecksum: bad);
        return v6 ? PacketBuilder.IPv6(src, dst, 6, seg) : PacketBuilder.IPv4(src, dst, 6, seg);
    }

    private static byte[] Udp(string src, string dst, ushort sp, ushort dp, int payload, bool v6, bool bad = false)
    {
        var dgram = PacketBuilder.Udp(src, dst, sp, dp, PacketBuilder.Bytes(payload), badChecksum: bad);
        return v6 ? PacketBuilder.IPv6(src, dst, 17, dgram) : PacketBuilder.IPv4(src, dst, 17, dgram);
    }

    private static byte[] Icmp(string src, string dst, byte type, bool v6) =>
        v6 ? PacketBuilder.IPv6(src, dst, 58, PacketBuilder.Icmp(type, 0, PacketBuilder.Bytes(32), src, dst))
           : PacketBuilder.IPv4(src, dst, 1, PacketBuilder.Icmp(type, 0, PacketBuilder.Bytes(32)));

    private static byte[] Frame(byte[] ip, bool v6) => PacketBuilder.Ethernet(v6 ? (ushort)0x86DD : (ushort)0x0800, ip);
}

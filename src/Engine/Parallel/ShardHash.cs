using System.Runtime.CompilerServices;
using ConnTrack.Engine.Decoding;
using ConnTrack.Engine.Net;

namespace ConnTrack.Engine.Parallel;

/// <summary>
/// Which shard (per-core connection table) a packet belongs to. The hash is symmetric: both directions of a
/// flow give the same shard. It is deliberately coarser than the tracker's <see cref="Tracking.FlowKey"/>, so
/// it can never split one connection over two shards whatever the key options are:
/// TCP and UDP hash the unordered pair of (address, port) endpoints; every other protocol (ICMP, whose
/// "ports" are message types mapped to counterparts, and unknown protocols) hashes the unordered address pair.
/// VLAN ids are left out (a VLAN-aware key only splits a flow further, never across shards).
/// </summary>
public static class ShardHash
{
    /// <summary>The symmetric 64-bit flow hash of a decoded packet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Of(in PacketSummary p)
    {
        ulong a, b;
        if (p.Protocol == 6 || p.Protocol == 17)
        {
            a = Endpoint(p.Src, p.SrcPort);
            b = Endpoint(p.Dst, p.DstPort);
        }
        else
        {
            a = Endpoint(p.Src, 0);
            b = Endpoint(p.Dst, 0);
        }
        // Addition is commutative, so the two directions agree; the endpoint hashes are mixed first.
        return Mix(a + b + p.Protocol);
    }

    /// <summary>The shard of a packet among <paramref name="shards"/> (1 to 256).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ShardOf(in PacketSummary p, int shards) => (int)(((Of(p) >> 32) * (ulong)(uint)shards) >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Endpoint(in IPAddr128 addr, ushort port) =>
        Mix((addr.Lo ^ ((ulong)port << 32)) + addr.Hi * 0x9E3779B97F4A7C15UL);

    // A 64-bit finaliser (murmur3 fmix64).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h;
    }
}

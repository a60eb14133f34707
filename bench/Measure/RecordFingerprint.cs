using ConnTrack.Engine.Records;

namespace ConnTrack.Bench.Measure;

/// <summary>
/// An order-independent, process-independent digest of a set of records (everything but uid), so two runs
/// (engine vs cmdlet, single-thread vs parallel) can be compared without holding the records. uids (and the
/// uids in tunnel_parents) are left out: the parallel runner's shards draw uids from their own seeds.
/// </summary>
public sealed class RecordFingerprint
{
    private ulong _sum;
    public long Count { get; private set; }

    public void Add(ConnRecord r)
    {
        ulong h = 0xCBF29CE484222325UL;
        h = Mix(h, (ulong)r.Ts);
        h = Mix(h, r.OrigH.Hi); h = Mix(h, r.OrigH.Lo); h = Mix(h, r.OrigP);
        h = Mix(h, r.RespH.Hi); h = Mix(h, r.RespH.Lo); h = Mix(h, r.RespP);
        h = Mix(h, (ulong)r.Proto);
        h = Mix(h, (ulong)(r.Duration ?? -1));
        h = Mix(h, r.OrigBytes ?? ulong.MaxValue); h = Mix(h, r.RespBytes ?? ulong.MaxValue);
        h = Mix(h, r.OrigPkts ?? ulong.MaxValue); h = Mix(h, r.RespPkts ?? ulong.MaxValue);
        h = Mix(h, r.OrigIpBytes ?? ulong.MaxValue); h = Mix(h, r.RespIpBytes ?? ulong.MaxValue);
        h = Mix(h, r.MissedBytes);
        h = MixString(h, r.ConnState);
        h = MixString(h, r.History);
        h = MixString(h, r.Service);
        h = Mix(h, r.LocalOrig is null ? 2UL : r.LocalOrig.Value ? 1UL : 0UL);
        h = Mix(h, r.LocalResp is null ? 2UL : r.LocalResp.Value ? 1UL : 0UL);
        h = Mix(h, (ulong)(uint)r.IpProto);
        h = Mix(h, r.Vlan ?? 0x1_0000UL); h = Mix(h, r.InnerVlan ?? 0x1_0000UL);
        h = Mix(h, r.OrigL2Addr ?? ulong.MaxValue); h = Mix(h, r.RespL2Addr ?? ulong.MaxValue);
        h = Mix(h, r.PppoeSessionId ?? 0x1_0000UL);
        // tunnel_parents holds uids, which differ between runs with other uid seeds: only how many there are.
        h = Mix(h, r.TunnelParents is null ? ulong.MaxValue : (ulong)r.TunnelParents.Length);
        _sum += h;
        Count++;
    }

    public string Value => $"{Count}:{_sum:x16}";

    private static ulong Mix(ulong h, ulong v)
    {
        h ^= v;
        h *= 0x100000001B3UL;
        return h ^ (h >> 29);
    }

    private static ulong MixString(ulong h, string? s)
    {
        if (s is null)
            return Mix(h, 0xFFFF_FFFFUL);
        foreach (char c in s)
            h = Mix(h, c);
        return Mix(h, (ulong)s.Length);
    }
}

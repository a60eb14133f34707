namespace ConnTrack.Engine.Records;

/// <summary>
/// Zeek-style connection uids: "C" followed by a base62 rendering of 96 random bits. Deterministic for a
/// seed (xorshift128+), so the same input and options give the same uids, as Zeek does with a fixed seed.
/// </summary>
public sealed class UidGenerator
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private ulong _s0, _s1;

    public UidGenerator(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private ulong Next()
    {
        ulong s1 = _s0, s0 = _s1;
        _s0 = s0;
        s1 ^= s1 << 23;
        _s1 = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        return _s1 + s0;
    }

    public string NextUid()
    {
        // 96 bits as (hi 32, lo 64); base62 digits least significant first, like Zeek's uid_to_str.
        UInt128 value = ((UInt128)(uint)Next() << 64) | Next();
        Span<char> buf = stackalloc char[20];
        int n = 0;
        buf[n++] = 'C';
        do
        {
            buf[n++] = Alphabet[(int)(value % 62)];
            value /= 62;
        } while (value != 0);
        return new string(buf[..n]);
    }
}

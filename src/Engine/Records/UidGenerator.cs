using System.Runtime.CompilerServices;

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
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
        var (hi, lo) = NextUidBits();
        return Render(hi, lo);
    }

    /// <summary>The next uid's random bits, as <see cref="NextUid"/> would render them (the same sequence).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    internal (uint Hi, ulong Lo) NextUidBits() => ((uint)Next(), Next());

    // 62^5, the largest power of 62 below 2^30: a remainder by it, shifted up by a 32-bit limb, still fits 64 bits.
    private const uint Pow62x5 = 62 * 62 * 62 * 62 * 62;

    /// <summary>
    /// "C" and the base62 digits of the 96-bit value (<paramref name="hi"/>, <paramref name="lo"/>), least
    /// significant first, like Zeek's uid_to_str. The value is held as three 32-bit limbs and divided by 62^5
    /// limb by limb in 64-bit arithmetic (by a constant, so a multiply), five digits at a time: a 128-bit
    /// division per digit cost about 1% of a whole pass.
    /// </summary>
    internal static string Render(uint hi, ulong lo)
    {
        uint l2 = hi, l1 = (uint)(lo >> 32), l0 = (uint)lo;
        Span<char> buf = stackalloc char[20];
        int n = 0;
        buf[n++] = 'C';
        while (true)
        {
            ulong cur = l2;
            l2 = (uint)(cur / Pow62x5);
            cur = (cur % Pow62x5) << 32 | l1;
            l1 = (uint)(cur / Pow62x5);
            cur = (cur % Pow62x5) << 32 | l0;
            l0 = (uint)(cur / Pow62x5);
            uint digits = (uint)(cur % Pow62x5);
            if ((l2 | l1 | l0) == 0)
            {
                // The most significant group: no leading zeros (and one "0" for a value of zero).
                do
                {
                    buf[n++] = Alphabet[(int)(digits % 62)];
                    digits /= 62;
                } while (digits != 0);
                return new string(buf[..n]);
            }
            for (int k = 0; k < 5; k++)
            {
                buf[n++] = Alphabet[(int)(digits % 62)];
                digits /= 62;
            }
        }
    }
}

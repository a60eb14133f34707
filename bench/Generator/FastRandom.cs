using System.Runtime.CompilerServices;

namespace ConnTrack.Bench.Generator;

/// <summary>
/// xoshiro256** seeded through SplitMix64: fast, and the same seed always gives the same sequence on every
/// platform and runtime (System.Random's seeded sequence is not a documented contract).
/// </summary>
public struct FastRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public FastRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextU64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    public uint NextU32() => (uint)(NextU64() >> 32);

    /// <summary>Uniform in [0, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(int n) => (int)(((NextU64() >> 32) * (ulong)(uint)n) >> 32);

    /// <summary>Uniform in [lo, hi].</summary>
    public int Between(int lo, int hi) => lo + Next(hi - lo + 1);

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>True with probability p.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Log-uniform in [lo, hi] (sizes spanning decades).</summary>
    public int LogUniform(int lo, int hi) => (int)Math.Round(lo * Math.Pow((double)hi / lo, NextDouble()));

    /// <summary>Exponential with the given mean (gaps of a Poisson process).</summary>
    public double Exponential(double mean) => -Math.Log(1.0 - NextDouble()) * mean;
}

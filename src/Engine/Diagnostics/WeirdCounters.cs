using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Diagnostics;

/// <summary>
/// Counts of anomalies seen in the traffic, by kind (Zeek calls them weirds). Malformed traffic is counted here,
/// never thrown. Names follow Zeek's where Zeek has one ("truncated_IP", "bad_TCP_checksum", ...).
/// </summary>
public sealed class WeirdCounters
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>Adds one to <paramref name="name"/>. Pass a string literal: no allocation happens here.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Add(string name)
    {
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, name, out _)++;
    }

    public long this[string name] => _counts.TryGetValue(name, out var n) ? n : 0;

    public IReadOnlyDictionary<string, long> All => _counts;

    public long Total => _counts.Values.Sum();
}

using System.Globalization;

namespace ConnTrack.Bench;

/// <summary>Command line of the benchmark.</summary>
public sealed class BenchArgs
{
    public string Command { get; private set; } = "run";
    public long Packets { get; private set; } = 5_000_000;
    public int Concurrency { get; private set; } = 50_000;
    public ulong Seed { get; private set; } = 42;
    public int Reps { get; private set; } = 3;
    public bool Quick { get; private set; }
    public string? File { get; private set; }
    public string? Out { get; private set; }
    public string? Module { get; private set; }
    public string? Results { get; private set; }
    public bool Peers { get; private set; } = true;
    public long MemConnections { get; private set; } = 1_000_000;
    public double StreamGb { get; private set; } = 10;
    public int VerifyFrames { get; private set; } = 100_000;
    public long SynFlood { get; private set; }
    public List<string> Positional { get; } = new();
    public string[] Raw { get; private set; } = [];

    public const string Usage = """
        ConnTrack benchmark (issue 4). From the repository root:
          dotnet run -c Release --project bench -- [options]            generate (or reuse) a capture and measure everything
          dotnet run -c Release --project bench -- gen --out FILE [...]  only write a capture
          dotnet run -c Release --project bench -- verify [...]          check generated frames with PacketDotNet
          dotnet run -c Release --project bench -- memprobe [...]        managed heap per tracked connection
          dotnet run -c Release --project bench -- stream [...]          on-the-fly capture into the engine, memory over time
        Options:
          --packets N          packets in the capture (default 5,000,000; --quick 500,000)
          --concurrency N      connections open at once (default 50,000; --quick 20,000)
          --seed N             generator seed (default 42)
          --reps N             repetitions per measurement, best kept (default 3; --quick 1)
          --quick              small, fast run
          --file PCAP          measure this capture instead of generating one
          --module PATH        ConnTrack.psd1 or ConnTrack.dll to import (default: out/ConnTrack/ConnTrack.psd1, else the built dll)
          --results PATH       where to write the report (default bench/RESULTS.md; --quick bench/RESULTS-quick.md)
          --no-peers           skip tshark and argus
          --mem-connections N  memory probe: N IPv4 and N IPv6 SYN-only connections, and N/5 (at most 200k)
                       established ones that carried data (default 1,000,000; 0 skips)
          --stream-gb G        size of the streamed capture (default 10; --quick 0.5; 0 skips)
          --synflood N         (gen) write N SYNs with distinct tuples instead (the memory probe's traffic)
          --verify-frames N    frames checked with PacketDotNet before measuring (default 100,000)
        """;

    public static BenchArgs Parse(string[] args)
    {
        var a = new BenchArgs { Raw = args };
        bool packetsSet = false, concurrencySet = false, repsSet = false, streamSet = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "--packets": a.Packets = ParseCount(Next()); packetsSet = true; break;
                case "--concurrency": a.Concurrency = (int)ParseCount(Next()); concurrencySet = true; break;
                case "--seed": a.Seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--reps": a.Reps = int.Parse(Next(), CultureInfo.InvariantCulture); repsSet = true; break;
                case "--quick": a.Quick = true; break;
                case "--file": a.File = Next(); break;
                case "--out": a.Out = Next(); break;
                case "--module": a.Module = Next(); break;
                case "--results": a.Results = Next(); break;
                case "--no-peers": a.Peers = false; break;
                case "--mem-connections": a.MemConnections = ParseCount(Next()); break;
                case "--stream-gb": a.StreamGb = double.Parse(Next(), CultureInfo.InvariantCulture); streamSet = true; break;
                case "--synflood": a.SynFlood = ParseCount(Next()); break;
                case "--verify-frames": a.VerifyFrames = (int)ParseCount(Next()); break;
                case "-h" or "--help": a.Command = "help"; break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal))
                        throw new ArgumentException($"unknown option {arg}");
                    if (a.Positional.Count == 0 && a.Command == "run" && arg is "gen" or "verify" or "memprobe" or "stream" or "run")
                        a.Command = arg;
                    else
                        a.Positional.Add(arg);
                    break;
            }
        }
        if (a.Quick)
        {
            if (!packetsSet) a.Packets = 500_000;
            if (!concurrencySet) a.Concurrency = 20_000;
            if (!repsSet) a.Reps = 1;
            if (!streamSet) a.StreamGb = 0.5;
        }
        return a;
    }

    /// <summary>Accepts 5000000, 5_000_000, 5M, 500k.</summary>
    private static long ParseCount(string text)
    {
        text = text.Replace("_", "").Replace(",", "");
        long scale = 1;
        if (text.EndsWith('k') || text.EndsWith('K')) { scale = 1_000; text = text[..^1]; }
        else if (text.EndsWith('m') || text.EndsWith('M')) { scale = 1_000_000; text = text[..^1]; }
        return (long)(double.Parse(text, CultureInfo.InvariantCulture) * scale);
    }
}

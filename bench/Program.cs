using ConnTrack.Bench.Generator;

var gen = new GeneratorOptions { Packets = 200_000, Concurrency = 5000 };
var verifier = new CaptureVerifier();
var stats = new CaptureGenerator(gen, verifier).Run();
Console.WriteLine(stats);
Console.WriteLine($"verified {verifier.Frames} bad {verifier.Bad} {verifier.FirstProblem} tcp {verifier.Tcp} udp {verifier.Udp} icmp {verifier.Icmp} v6 {verifier.Ipv6}");
using (var sink = new PcapFileSink("data/t.pcap"))
{
    var sw = System.Diagnostics.Stopwatch.StartNew();
    Console.WriteLine(new CaptureGenerator(gen with { Packets = 2_000_000, Concurrency = 50_000 }, sink).Run());
    Console.WriteLine($"{sw.Elapsed.TotalSeconds:F2}s");
}
return 0;

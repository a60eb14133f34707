using System.Reflection;
using Xunit;

namespace ConnTrack.Engine.Tests.Runner;

public class HotPathWarmUpTests
{
    [Fact]
    public void CompilesEveryPerPacketMethodOfTheTrackerAndDecoder()
    {
        int compiled = HotPathWarmUp.CompileMarkedMethods();
        // The per-packet path is marked throughout: the decoder, the tracker, the TCP steps, the timer heap.
        string[] mustBeMarked =
        [
            "ConnTrack.Engine.Decoding.PacketDecoder.Decode",
            "ConnTrack.Engine.Tracking.ConnTracker.Process",
            "ConnTrack.Engine.Tracking.ConnTracker.PrefetchConnections",
            "ConnTrack.Engine.Timers.ConnTimerHeap.Update",
            "ConnTrack.Engine.Tracking.ConnectionTable.CandidateSlot",
        ];
        var marked = typeof(HotPathWarmUp).Assembly.GetTypes()
            .Where(t => !t.ContainsGenericParameters)
            .SelectMany(t => t.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(m => (m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0)
            .Select(m => $"{m.DeclaringType!.FullName}.{m.Name}")
            .ToList();
        foreach (var name in mustBeMarked)
            Assert.Contains(name, marked);
        Assert.Equal(marked.Count, compiled); // every one of them, none failing
        Assert.True(compiled >= 40, $"only {compiled} methods compiled");
    }

    [Fact]
    public void StartingItTwiceIsHarmless()
    {
        HotPathWarmUp.Start();
        HotPathWarmUp.Start();
        using var runner = new ConnTraceRunner(new ConnTrack.Engine.Config.ConnTrackOptions());
        Assert.Equal(0, runner.PacketsRead);
    }
}

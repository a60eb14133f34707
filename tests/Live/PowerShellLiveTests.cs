using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using ConnTrack.Completers;
using Xunit;

namespace ConnTrack.Live.Tests;

/// <summary>Watch-ConnInterface and Get-ConnInterface through the real PowerShell engine, hosted in-process.</summary>
public sealed class PowerShellLiveTests
{
    /// <summary>The built module's manifest once the build makes it (out/ConnTrack/ConnTrack.psd1), else the built ConnTrack.dll.</summary>
    private static string ModulePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ConnTrack.sln")))
            {
                string manifest = Path.Combine(dir.FullName, "out", "ConnTrack", "ConnTrack.psd1");
                if (File.Exists(manifest))
                    return manifest;
                break;
            }
        }
        return Path.Combine(AppContext.BaseDirectory, "ConnTrack.dll");
    }

    private static PowerShell NewShell()
    {
        var ps = PowerShell.Create(InitialSessionState.CreateDefault2());
        ps.AddCommand("Import-Module").AddParameter("Name", ModulePath()).AddParameter("ErrorAction", "Stop").Invoke();
        ps.Commands.Clear();
        return ps;
    }

    [LiveFact]
    public void WatchConnInterface_OnLoopback_EmitsConnInfo_ForRealTraffic()
    {
        using var traffic = new Traffic();
        using var ps = NewShell();
        var trafficTask = Task.Run(async () =>
        {
            await Task.Delay(1500); // the cmdlet opens the device meanwhile
            return await traffic.RunAsync();
        });

        var clock = Stopwatch.StartNew();
        var output = ps.AddCommand("Watch-ConnInterface")
            .AddParameter("Interface", LiveEnvironment.Loopback)
            .AddParameter("Duration", TimeSpan.FromSeconds(5))
            .AddParameter("Filter", traffic.Filter)
            .AddParameter("IgnoreChecksums") // loopback packets carry no computed checksum
            .Invoke();
        var result = trafficTask.GetAwaiter().GetResult();

        Assert.Empty(ps.Streams.Error);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(15));
        Assert.All(output, o => Assert.Equal("ConnInfo", o.BaseObject.GetType().Name));
        TrafficAssert.Matches(result, output.Select(ConnRow.From).ToList());
    }

    [LiveFact]
    public void WatchConnInterface_StopsOnPipelineStop_AndReleasesTheDevice()
    {
        using var ps = NewShell();
        ps.AddCommand("Watch-ConnInterface").AddParameter("Interface", LiveEnvironment.Loopback).AddParameter("Filter", "udp port 9");
        var running = ps.BeginInvoke();
        Thread.Sleep(1000);
        Assert.False(running.IsCompleted, "without -Duration or -Count the capture runs until stopped");
        var clock = Stopwatch.StartNew();
        ps.Stop();
        Assert.True(running.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), "the capture ends promptly");
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);

        using var again = ConnTrack.Engine.Capture.LiveCaptureSource.Open(new(LiveEnvironment.Loopback));
        Assert.False(again.IsStopped);
    }

    [LiveFact]
    public void WatchConnInterface_EndsAfterCountPackets()
    {
        int port = 0;
        using (var probe = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)))
            port = ((System.Net.IPEndPoint)probe.Client.LocalEndPoint!).Port;
        using var ps = NewShell();
        var sender = Task.Run(async () =>
        {
            await Task.Delay(1000);
            using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            for (int i = 0; i < 4; i++)
                await udp.SendAsync(new byte[7], new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        });
        var clock = Stopwatch.StartNew();
        var output = ps.AddCommand("Watch-ConnInterface").AddParameter("Interface", LiveEnvironment.Loopback)
            .AddParameter("Filter", $"udp dst port {port}").AddParameter("Count", 3L).AddParameter("Duration", TimeSpan.FromSeconds(20))
            .AddParameter("IgnoreChecksums").Invoke();
        sender.Wait();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "-Count ends the capture");
        var one = ConnRow.From(Assert.Single(output));
        Assert.Equal(port, one.RespP);
        Assert.Equal(3UL, one.OrigPkts);
        Assert.Equal(21UL, one.OrigBytes);
        Assert.Equal("S0", one.ConnState);
    }

    [LiveFact]
    public void WatchConnInterface_WithoutIgnoreChecksums_WarnsAboutOffloadedChecksums()
    {
        int port;
        using (var probe = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)))
            port = ((System.Net.IPEndPoint)probe.Client.LocalEndPoint!).Port;
        using var ps = NewShell();
        var sender = Task.Run(async () =>
        {
            await Task.Delay(1000);
            using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            for (int i = 0; i < 2; i++)
                await udp.SendAsync(new byte[7], new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        });
        var output = ps.AddCommand("Watch-ConnInterface").AddParameter("Interface", LiveEnvironment.Loopback)
            .AddParameter("Filter", $"udp dst port {port}").AddParameter("Count", 2L).AddParameter("Duration", TimeSpan.FromSeconds(20))
            .Invoke();
        sender.Wait();
        var warning = Assert.Single(ps.Streams.Warning);
        Assert.StartsWith("2 of 2 packets had a bad TCP/UDP checksum", warning.Message);
        Assert.Contains("-IgnoreChecksums", warning.Message);
        // As Zeek without -C: the datagrams' contents are not counted.
        Assert.Null(ConnRow.From(Assert.Single(output)).OrigBytes);
    }

    [LiveFact]
    public void WatchConnInterface_UnknownInterface_IsOneClearError()
    {
        using var ps = NewShell();
        ps.AddCommand("Watch-ConnInterface").AddParameter("Interface", "nosuch0").AddParameter("Duration", TimeSpan.FromSeconds(1));
        var ex = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());
        Assert.Equal("InterfaceNotFound,ConnTrack.Commands.WatchConnInterfaceCommand", ex.ErrorRecord.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, ex.ErrorRecord.CategoryInfo.Category);
        Assert.Contains("'nosuch0'", ex.ErrorRecord.ErrorDetails.Message);
        Assert.Contains("lo", ex.ErrorRecord.ErrorDetails.RecommendedAction);
    }

    [LiveFact]
    public void WatchConnInterface_BadFilter_IsInvalidCaptureFilter()
    {
        using var ps = NewShell();
        ps.AddCommand("Watch-ConnInterface").AddParameter("Interface", LiveEnvironment.Loopback)
            .AddParameter("Filter", "port nope").AddParameter("Duration", TimeSpan.FromSeconds(1));
        var ex = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());
        Assert.Equal("InvalidCaptureFilter,ConnTrack.Commands.WatchConnInterfaceCommand", ex.ErrorRecord.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, ex.ErrorRecord.CategoryInfo.Category);
    }

    [LiveFact]
    public void GetConnInterface_ListsLoopback_AndFiltersByWildcard()
    {
        using var ps = NewShell();
        var all = ps.AddCommand("Get-ConnInterface").Invoke();
        var lo = Assert.Single(all, o => (string)o.Properties["Name"].Value == LiveEnvironment.Loopback);
        Assert.Equal(true, lo.Properties["IsLoopback"].Value);
        Assert.Equal(true, lo.Properties["IsUp"].Value);
        Assert.Equal("Ethernet", lo.Properties["LinkType"].Value);
        Assert.Contains(System.Net.IPAddress.Loopback, (System.Net.IPAddress[])lo.Properties["Addresses"].Value);

        ps.Commands.Clear();
        var some = ps.AddCommand("Get-ConnInterface").AddParameter("Name", "L*").Invoke();
        Assert.Contains(some, o => (string)o.Properties["Name"].Value == "lo");
        Assert.DoesNotContain(some, o => !((string)o.Properties["Name"].Value).StartsWith("l", StringComparison.OrdinalIgnoreCase));

        ps.Commands.Clear();
        var none = ps.AddCommand("Get-ConnInterface").AddParameter("Name", "nosuch0").Invoke();
        Assert.Empty(none);
        var error = Assert.Single(ps.Streams.Error);
        Assert.Equal("InterfaceNotFound,ConnTrack.Commands.GetConnInterfaceCommand", error.FullyQualifiedErrorId);
    }

    [LiveFact]
    public void Interface_TabCompletes_DeviceNames()
    {
        using var ps = NewShell();
        const string line = "Watch-ConnInterface -Interface l";
        var completion = ps.AddCommand("TabExpansion2").AddParameter("inputScript", line).AddParameter("cursorColumn", line.Length)
            .Invoke<CommandCompletion>().Single();
        Assert.Contains(completion.CompletionMatches, m => m.CompletionText == "lo");
        Assert.DoesNotContain(completion.CompletionMatches, m => !m.CompletionText.StartsWith("l", StringComparison.OrdinalIgnoreCase));

        var direct = new InterfaceCompleter().CompleteArgument("Watch-ConnInterface", "Interface", "", null!, null!).ToList();
        Assert.Contains(direct, m => m.CompletionText == "lo");
    }
}

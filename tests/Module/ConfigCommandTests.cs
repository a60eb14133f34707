using System.Management.Automation;

namespace ConnTrack.Module.Tests;

public sealed class ConfigCommandTests : IDisposable
{
    private readonly ModuleSession _s = new();
    public void Dispose() => _s.Dispose();

    [Fact]
    public void DefaultConfigIsZeeks()
    {
        var config = Assert.Single(_s.Run("Get-ConnTrackConfig"));
        Assert.Equal("ConnTrack.Engine.Config.ConnTrackOptions", config.BaseObject.GetType().FullName);
        Assert.Equal(TimeSpan.FromMinutes(5), config.Properties["TcpInactivityTimeout"].Value);
        Assert.Equal(TimeSpan.FromMinutes(1), config.Properties["UdpInactivityTimeout"].Value);
        Assert.Equal(false, config.Properties["IgnoreChecksums"].Value);
    }

    [Fact]
    public void TemplateIsWrittenLoadsBackAndIsNotOverwrittenWithoutForce()
    {
        var file = Assert.IsType<FileInfo>(Assert.Single(_s.Run("New-ConnTrackConfig -Path ./conntrack.yaml")).BaseObject);
        Assert.Equal(Path.Combine(_s.TempDir, "conntrack.yaml"), file.FullName);
        var text = File.ReadAllText(file.FullName);
        Assert.StartsWith("#", text);
        var loaded = Assert.Single(_s.Run("Get-ConnTrackConfig -ConfigPath ./conntrack.yaml"));
        Assert.Equal(TimeSpan.FromMinutes(5), loaded.Properties["TcpInactivityTimeout"].Value);

        var error = _s.RunTerminating("New-ConnTrackConfig -Path ./conntrack.yaml");
        Assert.Equal("ConfigFileExists,ConnTrack.Commands.NewConnTrackConfigCommand", error.FullyQualifiedErrorId);
        File.WriteAllText(file.FullName, "changed");
        _s.Run("New-ConnTrackConfig -Path ./conntrack.yaml -Force");
        Assert.Equal(text, File.ReadAllText(file.FullName));
    }

    [Fact]
    public void WhatIfWritesNothing()
    {
        _s.Run("New-ConnTrackConfig -Path ./w.yaml -WhatIf");
        Assert.False(File.Exists(Path.Combine(_s.TempDir, "w.yaml")));
    }

    [Fact]
    public void ConfigObjectFeedsReadConnTrace()
    {
        var rows = _s.Run("$c = Get-ConnTrackConfig; $c.IgnoreChecksums = $true; Read-ConnTrace $Sample -Config $c | Where-Object conn_state -eq SF");
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public void BadYamlIsConfigFileInvalid()
    {
        File.WriteAllText(Path.Combine(_s.TempDir, "bad.yaml"), "a: [1, 2\nb: : :\n");
        var error = _s.RunTerminating("Get-ConnTrackConfig -ConfigPath ./bad.yaml");
        Assert.Equal("ConfigFileInvalid,ConnTrack.Commands.GetConnTrackConfigCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Contains("bad.yaml", error.Exception.Message);
    }

    // Needs the engine's YAML loader (records branch); red until it is on main.
    [Fact]
    public void YamlSettingsReachTheEngineAndDirectParametersWin()
    {
        File.WriteAllText(Path.Combine(_s.TempDir, "c.yaml"), "tcp_inactivity_timeout: 2 min\nignore_checksums: true\nlocal_nets: [10.0.0.0/8]\n");
        var config = Assert.Single(_s.Run("Get-ConnTrackConfig -ConfigPath ./c.yaml"));
        Assert.Equal(TimeSpan.FromMinutes(2), config.Properties["TcpInactivityTimeout"].Value);

        var fromFile = _s.Run("Read-ConnTrace $Sample -ConfigPath ./c.yaml | Where-Object resp_p -eq 18080");
        var sf = Assert.Single(fromFile);
        Assert.Equal("ShADadfF", sf.Properties["history"].Value); // ignore_checksums from the file
        Assert.Equal(false, sf.Properties["local_orig"].Value);   // 127.0.0.1 is not in 10.0.0.0/8

        var overridden = Assert.Single(_s.Run("Read-ConnTrace $Sample -ConfigPath ./c.yaml -LocalNets 127.0.0.0/8 | Where-Object resp_p -eq 18080"));
        Assert.Equal(true, overridden.Properties["local_orig"].Value);
    }
}

using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ConnTrack.Module.Tests;

/// <summary>
/// Runs every tests/Pester/*.Tests.ps1 (valid Pester 5 suites) through tests/Pester/PesterLite.ps1, a runner of
/// the Pester subset they use, in the hosted PowerShell; fails listing every failing It.
/// </summary>
public sealed class PesterSuiteTests
{
    private static readonly string PesterDir = Path.Combine(ModuleSession.RepoRoot, "tests", "Pester");

    public static TheoryData<string> Suites() =>
        new(Directory.GetFiles(PesterDir, "*.Tests.ps1").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Suites))]
    public void SuitePasses(string suite)
    {
        var iss = InitialSessionState.CreateDefault2();
        StandIns.AddMissing(iss);
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using var ps = PowerShell.Create(runspace);
        ps.AddScript($". '{Path.Combine(PesterDir, "PesterLite.ps1")}'; Invoke-PesterLite -Path '{Path.Combine(PesterDir, suite)}'");
        var results = ps.Invoke();
        Assert.True(ps.Streams.Error.Count == 0, "runner errors: " + string.Join("; ", ps.Streams.Error));
        var rows = results.Select(r => (Name: (string)r.Properties["Name"].Value, Result: (string)r.Properties["Result"].Value,
                                        Error: r.Properties["Error"].Value as string)).ToList();
        var failed = rows.Where(r => r.Result == "Failed").ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {rows.Count} failed:\n" + string.Join("\n", failed.Select(f => $"  [{f.Name}] {f.Error}")));
        Assert.NotEmpty(rows);
        // A suite may skip what this machine cannot do (Pester's -Skip); what is not skipped must run and pass.
        Assert.Contains(rows, r => r.Result is "Passed" or "Skipped");
    }

    [Fact]
    public void RunnerReportsFailuresAndDoesNotPassWhatPesterWouldFail()
    {
        var suite = Path.Combine(Directory.CreateTempSubdirectory("pesterlite-self-").FullName, "Self.Tests.ps1");
        File.WriteAllText(suite, """
            Describe 'runner' {
                BeforeAll { $x = 5 }
                BeforeEach { $y = $x + 1 }
                It 'passes' { $y | Should -Be 6 }
                It 'fails on Should -Be' { 1 | Should -Be 2 }
                It 'fails on a wrong error id' { { throw [System.Management.Automation.ErrorRecord]::new([Exception]::new('x'), 'Wrong', 'InvalidData', $null) } | Should -Throw -ErrorId 'Right' }
                It 'fails on -HaveCount' { @(1, 2) | Should -HaveCount 3 }
                It 'fails on -Not' { 'a' | Should -Not -Be 'a' }
                It 'case <N>' -TestCases @(@{ N = 1 }, @{ N = 2 }) { $N | Should -Be 1 }
                It 'skipped' -Skip { throw 'never' }
                Context 'inner' { It 'sees outer BeforeAll' { $x | Should -Be 5; $TestDrive | Should -Not -BeNullOrEmpty } }
            }
            """);
        var iss = InitialSessionState.CreateDefault2();
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using var ps = PowerShell.Create(runspace);
        ps.AddScript($". '{Path.Combine(PesterDir, "PesterLite.ps1")}'; Invoke-PesterLite -Path '{suite}'");
        var rows = ps.Invoke().ToDictionary(r => (string)r.Properties["Name"].Value, r => (string)r.Properties["Result"].Value);
        Assert.Equal("Passed", rows["runner > passes"]);
        Assert.Equal("Failed", rows["runner > fails on Should -Be"]);
        Assert.Equal("Failed", rows["runner > fails on a wrong error id"]);
        Assert.Equal("Failed", rows["runner > fails on -HaveCount"]);
        Assert.Equal("Failed", rows["runner > fails on -Not"]);
        Assert.Equal("Passed", rows["runner > case 1"]);
        Assert.Equal("Failed", rows["runner > case 2"]);
        Assert.Equal("Skipped", rows["runner > skipped"]);
        Assert.Equal("Passed", rows["runner > inner > sees outer BeforeAll"]);
    }
}

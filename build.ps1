#requires -Version 7.4
<#
.SYNOPSIS
    Builds the ConnTrack module into out/ConnTrack and, with -Test, runs the tests.
.DESCRIPTION
    dotnet build assembles the loadable module folder out/ConnTrack (manifest, assemblies, format and help files).
    -Test then runs the Pester 5 suites in tests/Pester in a child pwsh (so the built DLLs are never locked in
    this session), with the xunit suites too unless -PesterOnly.
.EXAMPLE
    ./build.ps1
    Import-Module ./out/ConnTrack/ConnTrack.psd1
.EXAMPLE
    ./build.ps1 -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $Test,
    [switch] $PesterOnly
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

dotnet build src/Cmdlets/ConnTrack.Cmdlets.csproj -c $Configuration -nologo
if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)" }
$manifest = Join-Path $PSScriptRoot 'out/ConnTrack/ConnTrack.psd1'
Write-Host "Module: $manifest"

if ($Test) {
    if (-not (Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0')) {
        throw 'Pester 5 is needed: Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser'
    }
    $script = "Import-Module Pester -MinimumVersion 5.0; `$c = New-PesterConfiguration; `$c.Run.Path = '$PSScriptRoot/tests/Pester'; `$c.Run.Exit = `$true; `$c.Output.Verbosity = 'Detailed'; Invoke-Pester -Configuration `$c"
    pwsh -NoProfile -NonInteractive -Command $script
    if ($LASTEXITCODE) { throw "Pester: $LASTEXITCODE failed" }
    if (-not $PesterOnly) {
        dotnet test ConnTrack.sln -c $Configuration -nologo
        if ($LASTEXITCODE) { throw "dotnet test failed ($LASTEXITCODE)" }
    }
}

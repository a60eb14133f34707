# PesterLite: a small runner for the subset of Pester 5 that ConnTrack's suites use, for hosts where Pester
# cannot be installed (the in-process PowerShell of the xunit tests). It runs a suite the way Pester 5 does:
#   - discovery: the file runs; Describe/Context bodies run to register their blocks and Its;
#   - run: per block, BeforeAll in a new scope (its variables are seen by everything inside), then for each It
#     a child scope running the BeforeEach blocks outside-in, the It body, and the AfterEach blocks inside-out;
#     AfterAll at the end of the block; a failing BeforeAll fails every It of its block;
#   - BeforeDiscovery runs at once, during discovery (its variables stay local to it here);
#   - It -TestCases runs once per case with the case's keys as variables and <key> expanded in the name;
#     It -Skip reports the test as skipped;
#   - $TestDrive is a fresh temporary folder per top-level Describe, removed afterwards.
# Should supports -Be, -BeExactly, -BeTrue, -BeFalse, -BeNullOrEmpty, -HaveCount, -BeGreaterThan, -Contain,
# -Match, -BeOfType, -Throw [-ErrorId] [-ExpectedMessage], each with -Not, and -Because; failures throw.
# Anything else is reported as unsupported rather than silently passing.

$script:PLStack = [System.Collections.Generic.List[object]]::new()
$script:PLRoot = $null

function New-PLBlock([string] $Name, [object] $Parent) {
    [pscustomobject]@{ Name = $Name; Parent = $Parent; Children = [System.Collections.Generic.List[object]]::new()
        BeforeAll = [System.Collections.Generic.List[scriptblock]]::new(); AfterAll = [System.Collections.Generic.List[scriptblock]]::new()
        BeforeEach = [System.Collections.Generic.List[scriptblock]]::new(); AfterEach = [System.Collections.Generic.List[scriptblock]]::new() }
}

function Get-PLCurrent {
    if ($script:PLStack.Count -eq 0) { throw 'PesterLite: this command must be inside a Describe block (or the test file).' }
    $script:PLStack[$script:PLStack.Count - 1]
}

function Add-PLBlock([string] $Name, [scriptblock] $Fixture) {
    $parent = Get-PLCurrent
    $block = New-PLBlock $Name $parent
    $parent.Children.Add([pscustomobject]@{ Kind = 'Block'; Block = $block })
    $script:PLStack.Add($block)
    try { $null = & $Fixture } finally { $script:PLStack.RemoveAt($script:PLStack.Count - 1) }
}

function Describe { param([Parameter(Mandatory, Position = 0)][string] $Name, [Parameter(Mandatory, Position = 1)][scriptblock] $Fixture, [string[]] $Tag) Add-PLBlock $Name $Fixture }
function Context { param([Parameter(Mandatory, Position = 0)][string] $Name, [Parameter(Mandatory, Position = 1)][scriptblock] $Fixture, [string[]] $Tag) Add-PLBlock $Name $Fixture }
function BeforeDiscovery { param([Parameter(Mandatory, Position = 0)][scriptblock] $Scriptblock) $null = . $Scriptblock }
function BeforeAll { param([Parameter(Mandatory, Position = 0)][scriptblock] $Scriptblock) (Get-PLCurrent).BeforeAll.Add($Scriptblock) }
function AfterAll { param([Parameter(Mandatory, Position = 0)][scriptblock] $Scriptblock) (Get-PLCurrent).AfterAll.Add($Scriptblock) }
function BeforeEach { param([Parameter(Mandatory, Position = 0)][scriptblock] $Scriptblock) (Get-PLCurrent).BeforeEach.Add($Scriptblock) }
function AfterEach { param([Parameter(Mandatory, Position = 0)][scriptblock] $Scriptblock) (Get-PLCurrent).AfterEach.Add($Scriptblock) }

function It {
    param([Parameter(Mandatory, Position = 0)][string] $Name, [Parameter(Position = 1)][scriptblock] $Test = {},
          [System.Collections.IDictionary[]] $TestCases, [switch] $Skip, [string[]] $Tag)
    $block = Get-PLCurrent
    $cases = if ($TestCases) { $TestCases } else { @(@{}) }
    foreach ($case in $cases) {
        $title = $Name
        if ($case) { foreach ($k in $case.Keys) { $title = $title.Replace("<$k>", "$($case[$k])") } }
        $block.Children.Add([pscustomobject]@{ Kind = 'It'; Name = $title; Test = $Test; Case = $case; Skip = [bool]$Skip })
    }
}

function Get-PLChain([object] $Block, [string] $Property) {
    $chain = [System.Collections.Generic.List[scriptblock]]::new()
    for ($b = $Block; $null -ne $b; $b = $b.Parent) { $chain.InsertRange(0, $b.$Property) }
    , $chain
}

function Invoke-PLBlock([object] $Block, [string] $Path, [System.Collections.Generic.List[object]] $Results) {
    # A new scope per block: BeforeAll runs dot-sourced in it, so its variables reach every It inside.
    & {
        param($Block, $Path, $Results)
        $plSetupError = $null
        try { foreach ($plSb in $Block.BeforeAll) { . $plSb } } catch { $plSetupError = $_ }
        foreach ($plChild in $Block.Children) {
            if ($plChild.Kind -eq 'Block') {
                if ($plSetupError) { Add-PLSkippedByFailure $plChild.Block "$Path > $($plChild.Block.Name)" $Results $plSetupError }
                elseif ($null -eq $Block.Parent) {
                    # A top-level Describe gets its own TestDrive, removed when it ends.
                    $global:TestDrive = [IO.Directory]::CreateTempSubdirectory('pesterlite-').FullName
                    try { Invoke-PLBlock $plChild.Block $plChild.Block.Name $Results }
                    finally { [IO.Directory]::Delete($global:TestDrive, $true); $global:TestDrive = $null }
                }
                else { Invoke-PLBlock $plChild.Block "$Path > $($plChild.Block.Name)" $Results }
                continue
            }
            $plName = "$Path > $($plChild.Name)"
            if ($plChild.Skip) { $Results.Add([pscustomobject]@{ Name = $plName; Result = 'Skipped'; Error = $null }); continue }
            if ($plSetupError) { $Results.Add([pscustomobject]@{ Name = $plName; Result = 'Failed'; Error = "BeforeAll failed: $plSetupError" }); continue }
            $Results.Add((Invoke-PLTest $Block $plChild $plName))
        }
        foreach ($plSb in $Block.AfterAll) { try { . $plSb } catch { $Results.Add([pscustomobject]@{ Name = "$Path (AfterAll)"; Result = 'Failed'; Error = "$_" }) } }
    } $Block $Path $Results
}

function Add-PLSkippedByFailure([object] $Block, [string] $Path, $Results, $Err) {
    foreach ($c in $Block.Children) {
        if ($c.Kind -eq 'Block') { Add-PLSkippedByFailure $c.Block "$Path > $($c.Block.Name)" $Results $Err }
        else { $Results.Add([pscustomobject]@{ Name = "$Path > $($c.Name)"; Result = 'Failed'; Error = "BeforeAll failed: $Err" }) }
    }
}

function Invoke-PLTest([object] $Block, [object] $Item, [string] $Name) {
    $before = Get-PLChain $Block 'BeforeEach'
    $after = Get-PLChain $Block 'AfterEach'; $after.Reverse()
    & {
        param($plBefore, $plAfter, $plItem, $plName)
        $plError = $null
        try {
            foreach ($plSb in $plBefore) { . $plSb }
            if ($plItem.Case) { foreach ($plKey in $plItem.Case.Keys) { $ExecutionContext.SessionState.PSVariable.Set($plKey, $plItem.Case[$plKey]) } }
            $null = . $plItem.Test
        } catch { $plError = $_ }
        foreach ($plSb in $plAfter) { try { . $plSb } catch { if (-not $plError) { $plError = $_ } } }
        if ($plError) {
            [pscustomobject]@{ Name = $plName; Result = 'Failed'; Error = "$plError $($plError.InvocationInfo.PositionMessage)" }
        } else { [pscustomobject]@{ Name = $plName; Result = 'Passed'; Error = $null } }
    } $before $after $Item $Name
}

function Invoke-PesterLite {
    param([Parameter(Mandatory)][string] $Path)
    $results = [System.Collections.Generic.List[object]]::new()
    $root = New-PLBlock ([IO.Path]::GetFileName($Path)) $null
    $script:PLStack.Clear(); $script:PLStack.Add($root)
    try { $null = . $Path } catch { $results.Add([pscustomobject]@{ Name = "$Path (discovery)"; Result = 'Failed'; Error = "$_" }); return $results }
    finally { $script:PLStack.Clear() }
    Invoke-PLBlock $root ([IO.Path]::GetFileName($Path)) $results
    $results
}

function Should {
    [CmdletBinding()]
    param(
        [Parameter(ValueFromPipeline)] $ActualValue,
        [switch] $Not, [object] $Be, [object] $BeExactly, [switch] $BeTrue, [switch] $BeFalse, [switch] $BeNullOrEmpty,
        [object] $HaveCount, [object] $BeGreaterThan, [object] $Contain, [string] $Match, [object] $BeOfType,
        [switch] $Throw, [string] $ErrorId, [string] $ExpectedMessage, [string] $Because,
        [Parameter(ValueFromRemainingArguments)] $Rest)
    begin { $items = [System.Collections.Generic.List[object]]::new(); $fromPipeline = $MyInvocation.ExpectingInput }
    process { if ($fromPipeline) { $items.Add($ActualValue) } }
    end {
        if ($Rest) { throw "PesterLite: unsupported Should arguments: $Rest" }
        $actual = if (-not $fromPipeline) { $ActualValue } elseif ($items.Count -eq 0) { $null } elseif ($items.Count -eq 1) { $items[0] } else { , $items.ToArray() }
        $bound = $PSBoundParameters
        $why = if ($Because) { " because $Because" } else { '' }
        function Fail([string] $What) { throw "Expected $What$why, but got $(Format-PL $actual)." }
        $ok = $null; $what = $null
        if ($bound.ContainsKey('Be')) { $what = "$(Format-PL $Be)"; $ok = Test-PLEqual $actual $Be $false }
        elseif ($bound.ContainsKey('BeExactly')) { $what = "exactly $(Format-PL $BeExactly)"; $ok = Test-PLEqual $actual $BeExactly $true }
        elseif ($BeTrue) { $what = '$true'; $ok = [bool]$actual }
        elseif ($BeFalse) { $what = '$false'; $ok = -not [bool]$actual }
        elseif ($BeNullOrEmpty) { $what = '$null or empty'; $ok = ($null -eq $actual) -or ($actual -is [string] -and $actual -eq '') -or ($actual -is [array] -and $actual.Count -eq 0) }
        elseif ($bound.ContainsKey('HaveCount')) { $n = if ($fromPipeline) { $items.Count } else { @($actual).Count }; $what = "a collection of $HaveCount items (had $n)"; $ok = $n -eq $HaveCount }
        elseif ($bound.ContainsKey('BeGreaterThan')) { $what = "a value greater than $(Format-PL $BeGreaterThan)"; $ok = $actual -gt $BeGreaterThan }
        elseif ($bound.ContainsKey('Contain')) { $what = "a collection containing $(Format-PL $Contain)"; $ok = @($actual) -contains $Contain }
        elseif ($bound.ContainsKey('Match')) { $what = "a match for '$Match'"; $ok = $actual -match $Match }
        elseif ($bound.ContainsKey('BeOfType')) {
            $type = if ($BeOfType -is [type]) { $BeOfType } else { [type]$BeOfType }
            $what = "a value of type $type"; $ok = $actual -is $type
        }
        elseif ($Throw) {
            if ($actual -isnot [scriptblock]) { throw 'PesterLite: Should -Throw needs a script block.' }
            $caught = $null
            try { $null = & $actual } catch { $caught = $_ }
            if ($Not) { if ($caught) { throw "Expected no exception$why, but got '$caught'." }; return }
            if (-not $caught) { throw "Expected an exception$why, but none was thrown." }
            if ($ErrorId -and $caught.FullyQualifiedErrorId -notlike "*$ErrorId*") { throw "Expected an exception with FullyQualifiedErrorId '$ErrorId'$why, but got '$($caught.FullyQualifiedErrorId)'." }
            if ($ExpectedMessage -and $caught.Exception.Message -notlike $ExpectedMessage) { throw "Expected an exception with message like '$ExpectedMessage'$why, but got '$($caught.Exception.Message)'." }
            return
        }
        else { throw 'PesterLite: Should needs an operator.' }
        if ($Not) { if ($ok) { Fail "not $what" } } elseif (-not $ok) { Fail $what }
    }
}

function Test-PLEqual($Actual, $Expected, [bool] $CaseSensitive) {
    $a = @($Actual); $e = @($Expected)
    if ($a.Count -ne $e.Count) { return $false }
    for ($i = 0; $i -lt $a.Count; $i++) {
        $eq = if ($CaseSensitive) { $a[$i] -ceq $e[$i] } else { $a[$i] -eq $e[$i] }
        if ($null -eq $a[$i] -and $null -eq $e[$i]) { $eq = $true }
        if (-not $eq) { return $false }
    }
    $true
}

function Format-PL($Value) {
    if ($null -eq $Value) { return '$null' }
    if ($Value -is [array]) { return '@(' + (($Value | ForEach-Object { Format-PL $_ }) -join ', ') + ')' }
    if ($Value -is [string]) { return "'$Value'" }
    "$Value"
}

BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

Describe 'Module help' {
    It '<Name> has a synopsis, a description and examples' -TestCases @(
        @{ Name = 'Read-ConnTrace' }, @{ Name = 'Export-ConnLog' }, @{ Name = 'Import-ConnLog' },
        @{ Name = 'Get-ConnTrackConfig' }, @{ Name = 'New-ConnTrackConfig' }
    ) {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -Match "^$Name"
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterThan 1
    }

    It 'documents every parameter of <Name>' -TestCases @(
        @{ Name = 'Read-ConnTrace' }, @{ Name = 'Export-ConnLog' }, @{ Name = 'Import-ConnLog' },
        @{ Name = 'Get-ConnTrackConfig' }, @{ Name = 'New-ConnTrackConfig' }
    ) {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        foreach ($p in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            ((Get-Help $Name -Parameter $p).description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }
}

BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

Describe 'Get-ConnTrackConfig' {
    It 'returns Zeek''s defaults' {
        $c = Get-ConnTrackConfig
        $c.TcpInactivityTimeout | Should -Be ([TimeSpan]::FromMinutes(5))
        $c.UdpInactivityTimeout | Should -Be ([TimeSpan]::FromMinutes(1))
        $c.IgnoreChecksums | Should -BeFalse
    }

    It 'feeds Read-ConnTrace through -Config' {
        $c = Get-ConnTrackConfig
        $c.IgnoreChecksums = $true
        @(Read-ConnTrace $Sample -Config $c | Where-Object conn_state -eq SF) | Should -HaveCount 2
    }

    It 'reports a missing file as ConfigFileNotFound' {
        { Get-ConnTrackConfig -ConfigPath "$TestDrive/none.yaml" } | Should -Throw -ErrorId 'ConfigFileNotFound,ConnTrack.Commands.GetConnTrackConfigCommand'
    }
}

BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

Describe 'Import-ConnLog' {
    BeforeAll {
        $log = "$TestDrive/conn.log"
        $null = Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path $log
    }

    It 'reads a Zeek conn.log into the same objects Read-ConnTrace emits' {
        $rows = @(Import-ConnLog $log)
        $rows | Should -HaveCount 6
        $rows[0] | Should -BeOfType ([ConnTrack.Model.ConnInfo])
        ($rows | Where-Object conn_state -eq REJ).history | Should -BeExactly 'Sr'
    }

    It 'keeps the values of the capture' {
        $fromCapture = Read-ConnTrace $Sample -IgnoreChecksums | Where-Object resp_p -eq 18080
        $fromLog = Import-ConnLog $log | Where-Object resp_p -eq 18080
        $fromLog.uid | Should -BeExactly $fromCapture.uid
        $fromLog.ts | Should -Be $fromCapture.ts
        $fromLog.resp_ip_bytes | Should -Be $fromCapture.resp_ip_bytes
    }

    It 'reports a missing log as LogFileNotFound' {
        Import-ConnLog -LiteralPath "$TestDrive/none.log" -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeExactly 'LogFileNotFound,ConnTrack.Commands.ImportConnLogCommand'
    }
}

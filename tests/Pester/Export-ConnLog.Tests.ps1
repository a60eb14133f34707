BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

Describe 'Export-ConnLog' {
    It 'writes <Format> with its first line like <First>' -TestCases @(
        @{ Format = 'Zeek'; First = '^#separator \\x09$' }
        @{ Format = 'Json'; First = '^\{"ts":' }
        @{ Format = 'Csv'; First = '^ts,uid,id\.orig_h,id\.orig_p' }
    ) {
        $lines = @(Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Format $Format)
        $lines[0] | Should -Match $First
    }

    It 'writes a file and returns it' {
        $file = Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path "$TestDrive/conn.log"
        $file | Should -BeOfType ([IO.FileInfo])
        [IO.File]::ReadAllLines("$TestDrive/conn.log")[-1] | Should -Match '^#close'
    }

    It 'keeps an existing file with -NoClobber' {
        [IO.File]::WriteAllText("$TestDrive/keep.log", 'keep')
        { Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path "$TestDrive/keep.log" -NoClobber } | Should -Throw -ErrorId 'LogFileExists'
        [IO.File]::ReadAllText("$TestDrive/keep.log") | Should -BeExactly 'keep'
    }

    It 'writes nothing with -WhatIf' {
        Read-ConnTrace $Sample -IgnoreChecksums | Export-ConnLog -Path "$TestDrive/whatif.log" -WhatIf
        [IO.File]::Exists("$TestDrive/whatif.log") | Should -BeFalse
    }
}

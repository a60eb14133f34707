BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

Describe 'New-ConnTrackConfig' {
    BeforeEach {
        $path = "$TestDrive/conntrack.yaml"
        if ([IO.File]::Exists($path)) { [IO.File]::Delete($path) }
    }

    It 'writes a commented template that loads back' {
        $file = New-ConnTrackConfig -Path $path
        $file.FullName | Should -Be ([IO.Path]::GetFullPath($path))
        [IO.File]::ReadAllText($path) | Should -Match '^#'
        (Get-ConnTrackConfig -ConfigPath $path).TcpInactivityTimeout | Should -Be ([TimeSpan]::FromMinutes(5))
    }

    It 'keeps an existing file unless -Force' {
        $null = New-ConnTrackConfig -Path $path
        { New-ConnTrackConfig -Path $path } | Should -Throw -ErrorId 'ConfigFileExists'
        { New-ConnTrackConfig -Path $path -Force } | Should -Not -Throw
    }

    It 'writes nothing with -WhatIf' {
        New-ConnTrackConfig -Path $path -WhatIf
        [IO.File]::Exists($path) | Should -BeFalse
    }
}

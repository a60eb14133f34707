BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

Describe 'Read-ConnTrace' {
    Context 'the sample loopback capture' {
        BeforeAll {
            $conns = @(Read-ConnTrace -Path $Sample -IgnoreChecksums)
        }

        It 'emits one ConnInfo per connection' {
            $conns | Should -HaveCount 6
            $conns[0] | Should -BeOfType ([ConnTrack.Model.ConnInfo])
        }

        It 'finds the refused connection with Where-Object conn_state -eq REJ' {
            $rej = @($conns | Where-Object conn_state -eq REJ)
            $rej | Should -HaveCount 1
            $rej[0].resp_p | Should -Be 18081
            $rej[0].history | Should -BeExactly 'Sr'
        }

        It 'gives the accepted connection Zeek''s values' {
            $sf = $conns | Where-Object resp_p -eq 18080
            $sf.conn_state | Should -Be 'SF'
            $sf.history | Should -BeExactly 'ShADadfF'
            $sf.orig_bytes | Should -Be 17
            $sf.resp_bytes | Should -Be 23
            $sf.orig_h | Should -Be '127.0.0.1'
        }

        It 'types <Field> as <Type>' -TestCases @(
            @{ Field = 'ts'; Type = [datetime] }
            @{ Field = 'orig_h'; Type = [System.Net.IPAddress] }
            @{ Field = 'resp_p'; Type = [int] }
            @{ Field = 'duration'; Type = [double] }
            @{ Field = 'orig_pkts'; Type = [long] }
            @{ Field = 'proto'; Type = [string] }
        ) {
            ($conns | Where-Object resp_p -eq 18080).$Field | Should -BeOfType $Type
        }

        It 'sorts by duration numerically' {
            $d = @($conns | Where-Object { $null -ne $_.duration } | Sort-Object duration | ForEach-Object duration)
            for ($i = 1; $i -lt $d.Count; $i++) { $d[$i] -ge $d[$i - 1] | Should -BeTrue }
        }

        It 'shows bad checksums as C without -IgnoreChecksums, as Zeek does' {
            (@(Read-ConnTrace $Sample | Where-Object proto -eq tcp).history -join '') | Should -Match 'C'
        }
    }

    Context 'pipeline behaviour' {
        It 'stops reading at Select-Object -First and releases the file' {
            $copy = "$TestDrive/copy.pcap"
            [IO.File]::Copy($Sample, $copy)
            @(Read-ConnTrace -LiteralPath $copy | Select-Object -First 1) | Should -HaveCount 1
            { [IO.File]::Open($copy, 'Open', 'ReadWrite', 'None').Dispose() } | Should -Not -Throw
            [IO.File]::Delete($copy)
            [IO.File]::Exists($copy) | Should -BeFalse
        }

        It 'tracks each file alone with -PerFile' {
            [IO.File]::Copy($Sample, "$TestDrive/a.pcap")
            [IO.File]::Copy($Sample, "$TestDrive/b.pcap")
            @(Read-ConnTrace -Path "$TestDrive/*.pcap" -PerFile -IgnoreChecksums) | Should -HaveCount 12
        }
    }

    Context 'errors' {
        It 'reports a missing file as CaptureFileNotFound and goes on with the others' {
            $out = @(Read-ConnTrace -LiteralPath "$TestDrive/missing.pcap", $Sample -PerFile -IgnoreChecksums -ErrorVariable errs -ErrorAction SilentlyContinue)
            $out | Should -HaveCount 6
            $errs | Should -HaveCount 1
            $errs[0].FullyQualifiedErrorId | Should -BeExactly 'CaptureFileNotFound,ConnTrack.Commands.ReadConnTraceCommand'
            "$($errs[0].TargetObject)" | Should -Match 'missing\.pcap$'
        }

        It 'reports a text file as CaptureFileNotACapture' {
            [IO.File]::WriteAllText("$TestDrive/notes.txt", "not a capture`n")
            Read-ConnTrace "$TestDrive/notes.txt" -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs[0].FullyQualifiedErrorId | Should -BeExactly 'CaptureFileNotACapture,ConnTrack.Commands.ReadConnTraceCommand'
            "$($errs[0].CategoryInfo.Category)" | Should -Be 'InvalidData'
        }

        It 'reports a truncated capture and still emits the connections before the cut' {
            $bytes = [IO.File]::ReadAllBytes($Sample)
            [IO.File]::WriteAllBytes("$TestDrive/cut.pcap", $bytes[0..($bytes.Length - 21)])
            $out = @(Read-ConnTrace "$TestDrive/cut.pcap" -IgnoreChecksums -ErrorVariable errs -ErrorAction SilentlyContinue)
            $errs[0].FullyQualifiedErrorId | Should -BeExactly 'CaptureFileTruncated,ConnTrack.Commands.ReadConnTraceCommand'
            $out.conn_state | Should -Contain 'REJ'
            $out | Should -HaveCount 6
        }

        It 'ends with ConfigFileInvalid for a bad YAML file' {
            [IO.File]::WriteAllText("$TestDrive/bad.yaml", "a: [1, 2`nb: : :`n")
            { Read-ConnTrace $Sample -ConfigPath "$TestDrive/bad.yaml" } | Should -Throw -ErrorId 'ConfigFileInvalid'
        }

        It 'ends with ConfigParameterInvalid for a port without a protocol' {
            { Read-ConnTrace $Sample -LikelyServerPorts 443 } | Should -Throw -ErrorId 'ConfigParameterInvalid,ConnTrack.Commands.ReadConnTraceCommand'
        }
    }
}

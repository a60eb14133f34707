BeforeDiscovery {
    # Imported before discovery too, so the -Skip conditions can ask whether the live cmdlets are there.
    . "$PSScriptRoot/Common.ps1"
}

BeforeAll {
    . "$PSScriptRoot/Common.ps1"
}

# Live capture on the loopback device while bash makes real connections (Linux, as root; skipped elsewhere).
Describe 'Watch-ConnInterface' {
    It 'records a refused TCP connection and a UDP datagram on lo' -Skip:(-not ($IsLinux -and [Environment]::UserName -eq 'root' -and
            [IO.File]::Exists('/bin/bash') -and (Get-Command Watch-ConnInterface -ErrorAction Ignore))) {
        $traffic = 'sleep 1; (exec 3<>/dev/tcp/127.0.0.1/18091) 2>/dev/null; echo conntrack > /dev/udp/127.0.0.1/18092'
        $start = [System.Diagnostics.ProcessStartInfo]::new('/bin/bash')
        $start.ArgumentList.Add('-c')
        $start.ArgumentList.Add($traffic)
        $bash = [System.Diagnostics.Process]::Start($start)
        try {
            $conns = @(Watch-ConnInterface -Interface lo -Filter 'port 18091 or port 18092' -Duration 00:00:03 -IgnoreChecksums)
        } finally { $bash.WaitForExit(5000) | Out-Null }
        $rej = @($conns | Where-Object resp_p -eq 18091)
        $rej | Should -HaveCount 1
        $rej[0].conn_state | Should -BeExactly 'REJ'
        $rej[0].history | Should -BeExactly 'Sr'
        $udp = @($conns | Where-Object resp_p -eq 18092)
        $udp | Should -HaveCount 1
        $udp[0].proto | Should -BeExactly 'udp'
        $udp[0].conn_state | Should -BeExactly 'S0'
        $udp[0].orig_pkts | Should -Be 1
        $udp[0].orig_ip_bytes | Should -Be 38
    }
}

Describe 'Get-ConnInterface' {
    It 'lists the loopback device' -Skip:(-not ($IsLinux -and (Get-Command Get-ConnInterface -ErrorAction Ignore))) {
        @(Get-ConnInterface | Where-Object Name -eq 'lo') | Should -HaveCount 1
    }
}

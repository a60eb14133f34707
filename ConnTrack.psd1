# ConnTrack: Zeek conn.log records from pcap/pcapng captures and live interfaces.
@{
    RootModule           = 'ConnTrack.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f1d2b7e-4c1a-4f5e-9a7d-2b3c4d5e6f70'
    Author               = 'ConnTrack contributors'
    CompanyName          = 'ConnTrack'
    Copyright            = '(c) ConnTrack contributors.'
    Description          = 'Reads pcap/pcapng captures and live interfaces and emits one record per connection with the fields and meanings of Zeek''s conn.log.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('ConnTrack.format.ps1xml')
    CmdletsToExport      = @(
        'Read-ConnTrace'
        'Watch-ConnInterface'
        'Get-ConnInterface'
        'Export-ConnLog'
        'Import-ConnLog'
        'Get-ConnTrackConfig'
        'New-ConnTrackConfig'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('Zeek', 'pcap', 'pcapng', 'network', 'conn.log', 'security')
        }
    }
}

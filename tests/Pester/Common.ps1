# Shared by every suite (dot-sourced in the file's BeforeAll): imports the built module through its manifest,
# and names the sample capture.
$ModuleManifest = [IO.Path]::GetFullPath("$PSScriptRoot/../../out/ConnTrack/ConnTrack.psd1")
$Sample = [IO.Path]::GetFullPath("$PSScriptRoot/../../samples/loopback.pcap")
if (-not (Get-Module ConnTrack)) { Import-Module $ModuleManifest -ErrorAction Stop }

#!/usr/bin/env bash
# Runs every test of ConnTrack: engine (unit + Zeek conformance corpus), module (through the real PowerShell
# engine, hosted in-process), the Pester suites (through the same host) and live capture on loopback.
# Installs what the tests need when it can (libpcap for BPF filters and live capture; root only).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ldconfig -p 2>/dev/null | grep -q 'libpcap\.so\.0\.8' || ! command -v tcpdump >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing libpcap0.8 and tcpdump"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpcap0.8 tcpdump >/dev/null
    else
        echo "warning: libpcap0.8/tcpdump missing and not root: BPF and live-capture tests will skip" >&2
    fi
fi

# The conformance corpus sits beside the repository (X/main and X/shared) unless told otherwise.
if [ -z "${CONNTRACK_CONFORMANCE:-}" ] && [ -f ../shared/conformance/cases.json ]; then
    export CONNTRACK_CONFORMANCE="$(cd ../shared/conformance && pwd)"
fi

dotnet build ConnTrack.sln -c Release -nologo -v q

log="$(mktemp)"
set +e
dotnet test ConnTrack.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test project (dotnet test prints one summary per project).
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
rm -f "$log"
echo "tests: $passed passed, $failed failed"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
    echo "no test ran" >&2
    exit 1
fi
exit "$status"

#!/bin/sh
# Installs the peer tools the benchmark compares against (Debian/Ubuntu). Not used by CI.
#   tcpdump: libpcap's raw read (the baseline)      tshark: -q -z conv,tcp      argus: flow records
set -e
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends tcpdump tshark argus-server time

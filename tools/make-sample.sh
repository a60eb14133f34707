#!/usr/bin/env bash
# Re-makes samples/loopback.pcap: real traffic on the loopback interface, recorded with tcpdump.
# Needs root (capture and raw ICMP), tcpdump and python3. The traffic:
#   - TCP 127.0.0.1 -> 127.0.0.1:18080, accepted, a short request/response, closed by both sides (SF)
#   - TCP to 127.0.0.1:18081 where nothing listens: refused with a RST (REJ)
#   - UDP 127.0.0.1 -> 127.0.0.1:15353, a request and a reply (SF); one datagram to a closed port 15354
#     (answered by ICMP port unreachable)
#   - two ICMP echo requests to 127.0.0.1 and their replies
set -euo pipefail
out="${1:-$(dirname "$0")/../samples/loopback.pcap}"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

tcpdump -i lo -n -U -s 262144 -w "$tmp/capture.pcap" 'host 127.0.0.1 and (port 18080 or port 18081 or port 15353 or port 15354 or icmp)' 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
sleep 1

python3 - <<'PY'
import os, socket, struct, threading, time

# TCP: one accepted connection, one refused.
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 18080)); srv.listen(1)
def serve():
    conn, _ = srv.accept()
    data = conn.recv(1024)
    conn.sendall(b"HELLO " + data)
    conn.close()
t = threading.Thread(target=serve); t.start()
c = socket.create_connection(("127.0.0.1", 18080))
c.sendall(b"ConnTrack sample\n")
c.recv(1024)
c.close()
t.join(); srv.close()
time.sleep(0.2)
try:
    socket.create_connection(("127.0.0.1", 18081), timeout=2)
except ConnectionRefusedError:
    pass
time.sleep(0.2)

# UDP: a request and its reply; then one datagram to a closed port.
u_srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u_srv.bind(("127.0.0.1", 15353))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"ping over udp", ("127.0.0.1", 15353))
data, addr = u_srv.recvfrom(1024)
u_srv.sendto(b"pong over udp", addr)
u.recvfrom(1024)
u.sendto(b"nobody home", ("127.0.0.1", 15354))
time.sleep(0.2)

# ICMP echo: two requests, the kernel answers.
def checksum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
for seq in (1, 2):
    payload = b"conntrack-sample"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq) + payload
    icmp.sendto(pkt, ("127.0.0.1", 0))
    icmp.settimeout(2); icmp.recvfrom(1024)
    time.sleep(0.1)
PY

sleep 1
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
cp "$tmp/capture.pcap" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
tcpdump -n -r "$out" 2>/dev/null | head -40

#!/bin/sh
# hvt-net-check.sh - scenario 16, called by vmmctl-check.sh (as /guests/hvt-net-check.sh): the
# hvt test unikernel's net device both ways through a TAP. vmmctl creates tap0 for it; this
# side gives tap0 10.0.0.1/24 and pings 10.0.0.2, so Linux sends an ARP request, which the
# unikernel (net=arp) reads and answers, and then the ICMP echo to the unikernel's MAC, which
# shows Linux took the answer. Prints PASS/FAIL vmmctl-hvt-net.
o=/tmp/hvt-net.out
po=/tmp/hvt-net-ping.out
mkdir -p /tmp
rm -f "$o" "$po"
if [ ! -f /tmp/disk.img ]; then
    dd if=/dev/zero of=/tmp/disk.img bs=1024 count=64 2>/dev/null
fi
[ -c /dev/net/tun ] || insmod /tun.ko 2>/dev/null

vmmctl start -m 16 --block:storage=/tmp/disk.img --net:service0=tap0 /guests/hvt_test.elf -- \
    net=arp status=5 >"$o" 2>&1 &
pid=$!

# tap0 exists once vmmctl has attached it (it is gone again when vmmctl exits).
n=0
while [ ! -e /sys/class/net/tap0 ] && [ $n -lt 100 ]; do
    sleep 0.1
    n=$((n + 1))
done
why=""
if [ -e /sys/class/net/tap0 ]; then
    ip addr add 10.0.0.1/24 dev tap0 || why="ip addr add on tap0 failed"
    ip link set tap0 up || why="${why:-ip link set tap0 up failed}"
    # The unikernel answers ARP but not the echo: ping's own status says nothing here.
    ping -c 5 -W 1 10.0.0.2 >"$po" 2>&1
else
    why="no tap0 after 10 s"
fi

wait $pid
st=$?
while IFS= read -r line; do echo "  | $line"; done <"$o"
if [ -f "$po" ]; then
    while IFS= read -r line; do echo "  | ping: $line"; done <"$po"
fi
[ -z "$why" ] && [ "$st" != 5 ] && why="exit status $st, expected 5"
[ -z "$why" ] && grep -q -E '^[^ ]+: .*FAIL' "$o" && why="$(grep -E '^[^ ]+: .*FAIL' "$o" | head -1)"
for p in '^hvt: PASS net-read-arp$' '^hvt: PASS net-write-arp-reply$' \
    '^hvt: PASS net-icmp-after-arp$' '^hvt: all checks passed$' \
    '^vmmctl: hvt_test: halted by the unikernel \(status 5\)'; do
    [ -n "$why" ] && break
    grep -q -E -- "$p" "$o" || why="no /$p/ in the output"
done
if [ -z "$why" ]; then echo "PASS vmmctl-hvt-net"; else echo "FAIL vmmctl-hvt-net: $why"; fi

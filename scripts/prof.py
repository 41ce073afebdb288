#!/usr/bin/env python3
"""Hypervisor instructions per operation, by function, from QEMU's -d in_asm,exec,nochain log
(tests/prof.sh). Usage: prof.py ELF LOG OPS [BASE_LOG] [--lines]. Each executed instruction
is charged to the function holding it (nm of ELF), or with --lines to its source line
(addr2line); BASE_LOG, the same boot running no operation, is subtracted; the totals are
divided by OPS."""
import bisect, collections, re, subprocess, sys

def symbols(elf):
    out = subprocess.run(["nm", "-n", "--defined-only", elf], capture_output=True, text=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            addrs.append(int(f[0], 16)); names.append(f[2])
    return addrs, names

def profile(log):
    counts = collections.Counter()   # instruction address -> executions
    block = {}                       # a block's first address -> its instructions' addresses
    cur, pcs = None, []
    exec_re = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
    insn_re = re.compile(r"^0x([0-9a-f]+):")
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("IN:"):
                cur, pcs = None, []
                continue
            m = insn_re.match(line)
            if m:
                a = int(m.group(1), 16)
                if cur is None:
                    cur = a
                pcs.append(a)
                continue
            if cur is not None and not line.strip():
                block[cur] = pcs
                cur, pcs = None, []
                continue
            m = exec_re.match(line)
            if m:
                pc = int(m.group(1), 16)
                for a in block.get(pc, [pc]):
                    counts[a] += 1
    return counts

def by_line(counts, elf):
    pcs = sorted(counts)
    out = subprocess.run(["addr2line", "-e", elf] + [hex(a) for a in pcs],
                         capture_output=True, text=True).stdout.split("\n")
    fn = collections.Counter()
    for a, where in zip(pcs, out):
        fn[where.split(" ")[0].replace("/work/main/", "")] += counts[a]
    return fn

def by_function(counts, addrs, names):
    fn = collections.Counter()
    for pc, c in counts.items():
        i = bisect.bisect_right(addrs, pc) - 1
        fn[names[i] if i >= 0 else hex(pc)] += c
    return fn

def main():
    args = [a for a in sys.argv[1:] if a != "--lines"]
    elf, log, ops = args[0], args[1], int(args[2])
    addrs, names = symbols(elf)
    group = (lambda c: by_line(c, elf)) if "--lines" in sys.argv else \
        (lambda c: by_function(c, addrs, names))
    fn = group(profile(log))
    if len(args) > 3:
        fn.subtract(group(profile(args[3])))
    total = sum(v for v in fn.values() if v > 0)
    print(f"hypervisor instructions per operation: {total / ops:.1f} ({ops} operations)")
    for name, v in sorted(fn.items(), key=lambda kv: -kv[1]):
        if v / ops >= 0.5:
            print(f"  {v / ops:8.1f}  {name}")

main()

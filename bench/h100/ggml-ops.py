#!/usr/bin/env python3
"""ggml-ops.py BASE.log OTHER.log [...]: compares ggml's per-op GPU times
(llama-bench under GGML_VK_PERF_LOGGER=1, run.sh's llamaops workload).

Each log holds one "Vulkan Timings:" block per graph; the last block of
each log is compared (llama-bench's warm-up comes first). Per op kind
(the text before the first ':' of a row, shapes included), the total µs
in each log and its ratio to BASE's; then the blocks' totals. A ratio
above 100% means the GPU spent longer on that op than in BASE."""
import re
import sys

ROW = re.compile(r"^(.*): (\d+) x ([0-9.e+]+) us = ([0-9.e+]+) us")


def last_block(path):
    blocks, cur = [], None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Vulkan Timings:"):
                cur = {}
                blocks.append(cur)
            elif cur is not None and line.startswith("Total time:"):
                cur["(total)"] = (0, float(line.split()[2]))
                cur = None
            elif cur is not None:
                m = ROW.match(line)
                if m:
                    cur[m.group(1)] = (int(m.group(2)), float(m.group(4)))
    return blocks[-1] if blocks else None


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    logs = sys.argv[1:]
    blocks = [last_block(p) for p in logs]
    for p, b in zip(logs, blocks):
        if b is None:
            sys.exit(f"{p}: no 'Vulkan Timings:' block")
    base = blocks[0]
    keys = sorted(base, key=lambda k: -base[k][1])
    names = [p.rsplit("/", 1)[-1] for p in logs]
    print("op | " + " | ".join(f"{n} (us)" for n in names) +
          " | " + " | ".join(f"{n} / {names[0]}" for n in names[1:]))
    for k in keys + sorted(set().union(*blocks[1:]) - set(base)):
        vals = [b.get(k, (0, 0.0))[1] for b in blocks]
        ratios = [f"{v / vals[0] * 100:.1f}%" if vals[0] else "-" for v in vals[1:]]
        print(f"{k[:90]} | " + " | ".join(f"{v:.0f}" for v in vals) + " | " +
              " | ".join(ratios))


if __name__ == "__main__":
    main()

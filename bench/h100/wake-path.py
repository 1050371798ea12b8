#!/usr/bin/env python3
"""wake-path.py CLIENT.tl: what one call after an idle spell goes through
on the server (run.sh's waketimeline workload: vn-micro wake, with
gpu-server's PEARVISOR_VTEST_TIMELINE=DIR).

The timeline is cut into bursts wherever nothing happened for 1 ms (the
micro idles 2 ms before each measured call). For the commonest sequence of
events among the bursts, this prints each event's median time from the
burst's first event (the first message the server read after the idle
spell), with the 10th and 90th percentiles: how long the ring thread took
to start after the notify, the host queue call, the fence's retirement and
the guest's following messages."""
import statistics as st
import sys
from collections import Counter

from timeline import NAMES, load

KINDS = {3: "retire", 4: "ring begin", 5: "ring end", 6: "queue call"}


def label(typ, a):
    if typ in (1, 2):
        return "%s %s" % (NAMES.get(a & 0xff, str(a & 0xff)), "read" if typ == 1 else "done")
    return KINDS.get(typ, str(typ))


def main():
    ev = load(sys.argv[1])
    bursts, cur, last = [], [], None
    for t, typ, a, _ in ev:
        if last is not None and t - last > 1000000:
            bursts.append(cur)
            cur = []
        cur.append((t, label(typ, a)))
        last = t
    bursts.append(cur)
    bursts = bursts[2:]  # set-up and the first, unidled calls
    sigs = Counter(tuple(l for _, l in b) for b in bursts)
    if not sigs:
        sys.exit("no bursts")
    print("%d bursts, %d kinds of sequence" % (len(bursts), len(sigs)))
    for sig, n in sigs.most_common(3):
        print("\n%d bursts:" % n)
        rows = [[(t - b[0][0]) / 1e3 for t, _ in b] for b in bursts
                if tuple(l for _, l in b) == sig]
        for i, name in enumerate(sig):
            col = sorted(r[i] for r in rows)
            q = st.quantiles(col, n=10) if len(col) > 1 else [col[0]] * 9
            print("  %-22s median %8.1f us   p10 %8.1f   p90 %8.1f"
                  % (name, st.median(col), q[0], q[-1]))

if __name__ == "__main__":
    main()

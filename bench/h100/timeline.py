#!/usr/bin/env python3
"""timeline.py CLIENT.tl [SKIP]: per-graph breakdown of a vtest client's
timeline (gpu-server with PEARVISOR_VTEST_TIMELINE=DIR).

A "graph end" is a SYNC_READ whose value moved: the guest's poll on its
fence (ggml spins on vkGetFenceStatus after each graph) saw the GPU finish.
Between two graph ends, this prints the medians of: the period (a token in
llama-bench tg), how many messages of each kind the guest sent and how long
the server took to handle them, how late the guest's poll saw the last
retired fence, and how long after that the guest's next SUBMIT_CMD2 came.
SKIP (default 3) graph ends are ignored at the start (warm-up)."""
import bisect
import statistics
import sys

# vtest command numbers (src/vtest/vtest_wire.h); token-path.py and
# vtest-gaps.py use these and load() too.
NAMES = {3: "RESOURCE_UNREF", 7: "RESOURCE_BUSY_WAIT", 18: "CREATE_BLOB", 19: "SYNC_CREATE",
         20: "SYNC_UNREF", 21: "SYNC_READ", 22: "SYNC_WRITE", 23: "SYNC_WAIT", 24: "SUBMIT_CMD2"}


def load(path):
    """A timeline's events as (t_ns, type, a, b) tuples, in time order."""
    with open(path) as f:
        return sorted(tuple(int(x) for x in line.split()) for line in f)


def split_gaps(ev):
    """The gaps (a message handled -> the next one read) of a timeline, in
    µs: (the guest's own time, gaps with a fence retiring, a ring replaying
    in a gap). A ring replaying during a gap may be what the guest waits
    for (a ring call's reply): that part counts as the server's."""
    busy, begin = [], None
    for t, typ, a, _ in ev:
        if typ == 4:
            begin = t
        elif typ == 5 and begin is not None:
            busy.append((begin, t))
            begin = None

    begins = [b for b, _ in busy]
    longest = max((e - b for b, e in busy), default=0)

    def ring_overlap(lo, hi):
        k = bisect.bisect_left(begins, lo - longest)
        total = 0
        while k < len(busy) and busy[k][0] < hi:
            b, e = busy[k]
            total += max(0, min(hi, e) - max(lo, b))
            k += 1
        return total

    guest, with_retire, ring_in_gaps = 0.0, 0.0, 0.0
    last_done, retired = None, False
    for t, typ, a, _ in ev:
        if typ == 3:
            retired = True
        elif typ == 1 and last_done is not None:
            ov = ring_overlap(last_done, t) / 1e3
            g = (t - last_done) / 1e3 - ov
            ring_in_gaps += ov
            if retired:
                with_retire += g
            else:
                guest += g
            last_done = None
        elif typ == 2:
            last_done, retired = t, False
    return guest, with_retire, ring_in_gaps


def main():
    path = sys.argv[1]
    skip = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ev = load(path)
    ends = []          # (t, index) of graph ends
    last_val = {}
    last_retire = None
    obs = []           # poll latency after the last retire, per graph end
    for i, (t, typ, a, b) in enumerate(ev):
        if typ == 3:
            last_retire = t
        elif typ == 2 and (a & 0xff) == 21:
            sid = a >> 8
            if sid in last_val and b != last_val[sid]:
                ends.append((t, i))
                obs.append(t - last_retire if last_retire else 0)
            last_val[sid] = b
    if len(ends) < skip + 3:
        print(f"{path}: only {len(ends)} graph ends")
        return
    rows = []
    for k in range(skip, len(ends) - 1):
        t0, i0 = ends[k]
        t1, i1 = ends[k + 1]
        n, busy = {}, {}
        start = {}
        first_submit = None
        for t, typ, a, b in ev[i0 + 1:i1 + 1]:
            cmd = a & 0xff
            if typ == 1:
                start[cmd] = t
                if cmd == 24 and first_submit is None:
                    first_submit = t - t0
            elif typ == 2 and cmd in start:
                n[cmd] = n.get(cmd, 0) + 1
                busy[cmd] = busy.get(cmd, 0) + t - start.pop(cmd)
        rows.append((t1 - t0, n, busy, obs[k + 1], first_submit or 0))
    med = lambda xs: statistics.median(xs) / 1000.0
    print(f"{path}: {len(rows)} graphs (after {skip} skipped)")
    print(f"  period                      median {med([r[0] for r in rows]):9.1f} us")
    print(f"  poll saw the retire after   median {med([r[3] for r in rows]):9.1f} us")
    print(f"  end -> first SUBMIT_CMD2    median {med([r[4] for r in rows]):9.1f} us")
    cmds = sorted({c for r in rows for c in r[1]})
    for c in cmds:
        ns = [r[1].get(c, 0) for r in rows]
        bs = [r[2].get(c, 0) for r in rows]
        print(f"  {NAMES.get(c, c):14s} n/graph median {statistics.median(ns):6.1f}"
              f"  server time/graph median {med(bs):8.1f} us")
    total_busy = [sum(r[2].values()) for r in rows]
    print(f"  server time on messages     median {med(total_busy):9.1f} us per graph")


if __name__ == "__main__":
    main()

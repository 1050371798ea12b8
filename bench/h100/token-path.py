#!/usr/bin/env python3
"""token-path.py CLIENT.tl [MIN_US]: where a generated token's time goes,
from a vtest client's timeline with the renderer's events (run.sh's
llamatimeline workload: gpu-server with PEARVISOR_VTEST_TIMELINE=DIR).

A token's graph reaches the server as one or more long ring batches (the
command buffers Mesa sends at vkEndCommandBuffer, by reference: a batch's
bytes say little, its replay time says which it is; MIN_US and longer,
default 100). A token runs from the start of its first long batch to the
next token's. Within it, in order, this prints the medians of:
  replay     first long batch begins -> the ring's last host vkQueueSubmit
             of the graph returns (Mesa 26 submits through the ring; this
             includes waiting for the guest to encode later chunks)
  gpu        -> the last fence retirement before the guest sees the graph
             done (the GPU's tail after the last submit, and the fence
             thread noticing)
  seen       -> the guest sees it: a SYNC_READ whose value moved (ggml
             spins on vkGetFenceStatus), else its next message
  between    -> the next token's first long batch (logits read back, inputs
             uploaded, the next graph built and its first chunk encoded)
and, per token, the ring's busy time and the number of messages of each
kind. Event types: 1 read, 2 done, 3 retire, 4 ring begin, 5 ring end,
6 host queue call (src/vtest/vtest_timeline.h)."""
import statistics
import sys

from timeline import NAMES, load


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    path = sys.argv[1]
    min_ns = int(float(sys.argv[2]) * 1000) if len(sys.argv) > 2 else 100000
    ev = load(path)
    # Ring batches as (begin, end, bytes); long ones are graph chunks.
    batches, open_b = [], None
    for t, typ, a, b in ev:
        if typ == 4:
            open_b = (t, b)
        elif typ == 5 and open_b:
            batches.append((open_b[0], t, b))
            open_b = None
    big = [x for x in batches if x[1] - x[0] >= min_ns]
    if len(big) < 4:
        print(f"{path}: {len(big)} ring batches of {min_ns / 1000:.0f}+ us: too few to split tokens")
        return
    # A token's first long batch: one that starts after the previous big
    # batch ended and a queue call or retire came in between.
    starts = [big[0]]
    for prev, cur in zip(big, big[1:]):
        between = [e for e in ev if prev[1] <= e[0] < cur[0] and e[1] in (3, 6)]
        if between:
            starts.append(cur)
    rows = []
    for k in range(1, len(starts) - 2):
        t0, t1 = starts[k][0], starts[k + 1][0]
        tok_big = [x for x in big if t0 <= x[0] < t1]
        replay_end = max(x[1] for x in tok_big)
        win = [e for e in ev if t0 <= e[0] < t1]
        # The ring submits the graph itself (Mesa 26 sends the submit
        # through the ring): its last queue call inside the long batches.
        qs = [e[0] for e in win if e[1] == 6 and e[0] <= replay_end]
        if not qs:
            continue
        submit = qs[-1]
        # The guest saw the graph finish: the first SYNC_READ after the
        # submit whose value moved (ggml spins on vkGetFenceStatus), else
        # the first message after a retire.
        seen, last_val = None, {}
        for e in ev:
            if e[1] == 2 and (e[2] & 0xff) == 21:
                sid = e[2] >> 8
                if e[0] > submit and sid in last_val and e[3] != last_val[sid] and e[0] < t1:
                    seen = e[0]
                    break
                last_val[sid] = e[3]
        rets = [e[0] for e in win if e[1] == 3 and e[0] >= submit and (seen is None or e[0] <= seen)]
        if not rets:
            continue
        gpu_end = rets[-1] if seen is not None else rets[0]
        if seen is None:
            seen = next((e[0] for e in win if e[1] == 1 and e[0] >= gpu_end), None)
            if seen is None:
                continue
        busy = sum(min(b_[1], t1) - max(b_[0], t0) for b_ in batches if b_[1] > t0 and b_[0] < t1)
        msgs = {}
        for e in win:
            if e[1] == 1:
                msgs[e[2] & 0xff] = msgs.get(e[2] & 0xff, 0) + 1
        rows.append({
            "period": t1 - t0, "replay": submit - t0, "gpu": gpu_end - submit,
            "seen": seen - gpu_end, "between": t1 - seen,
            "ring_busy": busy, "chunks": len(tok_big), "msgs": msgs,
        })
    if not rows:
        print(f"{path}: no complete token found")
        return
    # Skip the first few (warm-up) when there are enough.
    if len(rows) > 20:
        rows = rows[5:]
    print(f"{path}: {len(rows)} tokens, medians in us")
    for key in ("period", "replay", "gpu", "seen", "between", "ring_busy"):
        print(f"  {key:10s} {med([r[key] for r in rows]) / 1000:9.1f}")
    print(f"  long batches/token {med([r['chunks'] for r in rows]):.0f}")
    kinds = sorted({k for r in rows for k in r["msgs"]})
    print("  messages/token: " + ", ".join(
        f"{NAMES.get(k, k)} {med([r['msgs'].get(k, 0) for r in rows]):.0f}" for k in kinds))


if __name__ == "__main__":
    main()

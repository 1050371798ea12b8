#!/usr/bin/env python3
"""vtest-gaps.py CLIENT.tl [FROM TO [FPS]]: where a vtest client's time goes,
per message kind (gpu-server with PEARVISOR_VTEST_TIMELINE=DIR; run.sh's
vkmarktrace and llamatrace workloads record one).

For each kind: how many, the server's handling time (message read ->
handled) and the gap after it (handled -> the client's next message read),
which is the client's own time plus both sides' wake-ups; and each one's
share of the span. For SYNC_WAIT it also splits the replies by whether a
fence retired before the client's next message (the client really waited
for the GPU) or not (the sync was already signalled: the gap is transport).
FROM and TO (fractions of the run, default 0.02 0.30) pick a window, e.g.
vkmark's first scene.

Every gap is also split: the time a ring replayed in it (the guest may
wait for that), and the rest by whether a fence retired in the gap; a gap
with neither is the guest's own time (its CPU and its wake-ups, the server
waiting for its next message), which no server can shorten. With FPS (the scene's rate
through the server, from the same run) these come per frame: a bound on
the frame that holds even for a server that took no time and retired every
fence at once."""
import statistics as st
import sys

from timeline import NAMES, load, split_gaps


def main():
    ev = load(sys.argv[1])
    lo = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
    hi = float(sys.argv[3]) if len(sys.argv) > 3 else 0.30
    t0, t1 = ev[0][0], ev[-1][0]
    ev = [e for e in ev if t0 + (t1 - t0) * lo <= e[0] <= t0 + (t1 - t0) * hi]
    msgs = [e for e in ev if e[1] in (1, 2)]
    if len(msgs) < 2:
        sys.exit("no messages in that window")
    handle, gap, count = {}, {}, {}
    last_done = last_kind = read_t = None
    for t, typ, a, _ in msgs:
        kind = NAMES.get(a & 0xff, str(a & 0xff))
        if typ == 1:
            if last_done is not None:
                gap.setdefault(last_kind, []).append((t - last_done) / 1e3)
            read_t = t
            count[kind] = count.get(kind, 0) + 1
        elif read_t is not None:
            handle.setdefault(kind, []).append((t - read_t) / 1e3)
            last_done, last_kind = t, kind
    span = (msgs[-1][0] - msgs[0][0]) / 1e3
    print("window %.0f us, %d messages" % (span, sum(count.values())))
    for kind in sorted(count):
        h = handle.get(kind) or [0.0]
        g = gap.get(kind) or [0.0]
        print("%-18s n=%7d  handled in: median %5.1f us | gap after: median %5.1f us"
              "  | share of the window: handling %2.0f%%, gaps %2.0f%%"
              % (kind, count[kind], st.median(h), st.median(g),
                 100 * sum(h) / span, 100 * sum(g) / span))
    guest, with_retire, ring_in_gaps = split_gaps(ev)
    handled = sum(sum(v) for v in handle.values())
    print("gaps with no fence retiring and no ring replaying (the guest's own time): "
          "%2.0f%% of the window; with a fence retiring: %2.0f%%; a ring replaying in "
          "a gap: %2.0f%%; the server handling messages: %2.0f%%"
          % (100 * guest / span, 100 * with_retire / span, 100 * ring_in_gaps / span,
             100 * handled / span))
    if len(sys.argv) > 4:
        fps = float(sys.argv[4])
        per = 1e6 / fps
        print("per frame at %.0f FPS (%.1f us): the guest's own %.1f us, gaps with a fence "
              "retiring %.1f us, ring replay in gaps %.1f us, server handling %.1f us"
              % (fps, per, per * guest / span, per * with_retire / span,
                 per * ring_in_gaps / span, per * handled / span))
    waited, not_waited = [], []
    for i, (t, typ, a, _) in enumerate(ev):
        if typ != 2 or (a & 0xff) != 23:
            continue
        j, retired = i + 1, False
        while j < len(ev) and ev[j][1] != 1:
            retired = retired or ev[j][1] == 3
            j += 1
        if j == len(ev):
            break
        (waited if retired else not_waited).append((ev[j][0] - t) / 1e3)
    if waited or not_waited:
        print("SYNC_WAIT replies: %d followed by a fence retiring (gap median %.1f us), "
              "%d by none (gap median %.1f us)"
              % (len(waited), st.median(waited) if waited else 0,
                 len(not_waited), st.median(not_waited) if not_waited else 0))


if __name__ == "__main__":
    main()

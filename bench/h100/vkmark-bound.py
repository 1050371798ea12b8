#!/usr/bin/env python3
"""vkmark-bound.py DIR [MODE]: what bounds each vkmark scene through our
server, whatever the server does (run.sh's vkmarkbound workload; DIR holds
its unpacked logs.tar.gz).

For each default scene run alone with the server's event timeline
(vkmarkbound-N-MODE.log, vkmark-bound-N-MODE-client-1.tl.xz), the frame is
split as bench/h100/vtest-gaps.py splits it, over the steady middle of the
run (from 25% to 95% of the span between the first and last SUBMIT_CMD2).
The guest's own time per frame (gaps in which the server only waited for
the guest's next message: no fence retired, no ring replayed) is left even
by a server that took no time and retired every fence at once, so
1e6 / that is a ceiling on the scene's FPS through any vtest server, for
this guest driver on this host. Native FPS: the median of DIR's
vkmark-native*.log runs. The ceiling on vkmark's Score (the mean of the
scenes' FPS) is the mean of min(native, ceiling) over the mean of native.
"""
import glob
import lzma
import os
import re
import statistics as st
import sys

from timeline import split_gaps

SCENE = re.compile(r"^\[(\w+)\] (.*?): FPS: (\d+)")


def scene_key(name, opts):
    """"[clear] <default>" from a default run and "[clear] duration=2" from
    a scene run alone name the same scene."""
    opts = re.sub(r":?duration=[0-9.]+", "", opts).strip(":")
    return name if opts in ("", "<default>") else name + " " + opts


def fps_lines(path):
    with open(path, errors="replace") as f:
        return {scene_key(m.group(1), m.group(2)): int(m.group(3))
                for m in (SCENE.match(line) for line in f) if m}


def load_xz(path):
    with lzma.open(path, "rt") as f:
        return sorted(tuple(int(x) for x in line.split()) for line in f)


def main():
    d = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "pearvisor"
    native = {}
    for p in glob.glob(os.path.join(d, "vkmark-native*.log")):
        if "trixie" in p:
            continue
        for k, v in fps_lines(p).items():
            native.setdefault(k, []).append(v)
    native = {k: st.median(v) for k, v in native.items()}
    rows = []
    n = 0
    while os.path.exists(os.path.join(d, "vkmarkbound-%d-%s.log" % (n, mode))):
        got = fps_lines(os.path.join(d, "vkmarkbound-%d-%s.log" % (n, mode)))
        tl = os.path.join(d, "vkmark-bound-%d-%s-client-1.tl.xz" % (n, mode))
        n += 1
        if len(got) != 1 or not os.path.exists(tl):
            continue
        (scene, fps), = got.items()
        ev = load_xz(tl)
        subs = [e[0] for e in ev if e[1] == 1 and (e[2] & 0xff) == 24]
        if len(subs) < 100:
            continue
        lo = subs[0] + (subs[-1] - subs[0]) * 0.25
        hi = subs[0] + (subs[-1] - subs[0]) * 0.95
        ev = [e for e in ev if lo <= e[0] <= hi]
        guest, with_retire, ring = split_gaps(ev)
        span = (hi - lo) / 1e3
        frame = 1e6 / fps
        own = frame * guest / span
        rows.append((scene, native.get(scene), fps, frame, own, frame * with_retire / span,
                     frame * ring / span))
    if not rows:
        sys.exit("no vkmarkbound runs for %s in %s" % (mode, d))
    print("| scene | native FPS | %s FPS | frame, us | the guest's own, us | "
          "gaps with a fence retiring, us | ring replay in gaps, us | ceiling FPS | "
          "%s / native | ceiling / native |" % (mode, mode))
    print("|---|---|---|---|---|---|---|---|---|---|")
    sn = sc = sp = 0.0
    for scene, nat, fps, frame, own, fr, ring in rows:
        ceil = 1e6 / own if own > 0 else float("inf")
        pct = lambda x: "%.1f%%" % (100 * x / nat) if nat else "-"
        print("| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.0f | %s | %s |"
              % (scene, "%.0f" % nat if nat else "-", fps, frame, own, fr, ring, ceil,
                 pct(fps), pct(min(ceil, nat) if nat else ceil)))
        if nat:
            sn += nat
            sc += min(ceil, nat)
            sp += fps
    if sn:
        print("\nScore (mean FPS of the scenes with a native figure): %s %.1f%% of native; "
              "ceiling for any server %.1f%%" % (mode, 100 * sp / sn, 100 * sc / sn))


if __name__ == "__main__":
    main()

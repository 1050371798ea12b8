#!/usr/bin/env python3
"""tbo-merge.py RUN_DIR...: one verdict for the whole test-backend-ops suite
from the partial runs of bench/h100/tbo-full.sh.

No single device call (10 minutes) or local run finishes all 237 shards of
tbo-shards.txt on both sides, so the suite is covered by several runs. Each
RUN_DIR is a tbo-full.sh $OUT: shards.txt (the run's shard list) and either
logs.tar.gz (every shard's output: per-case verdicts) or only counts.txt.

A run's shard is either one of tbo-shards.txt's shards (same OPS@PARAMS) or
a piece of one listed in tbo-pieces.txt (a shard too slow for one call,
split by a leading lookahead in its regex; the pieces' supported-case
counts, checked with `test-backend-ops support -p`, add up to the shard's).
A shard is complete on a side when a run completed it there (its final
"N/N backends passed" line), or every one of its pieces. Later RUN_DIRs take
precedence; within a run, a shard complete on both sides is preferred so
that its cases can be compared one by one.

Prints a table per shard, the totals per side, and every case whose verdict
differs between the sides (where both sides' logs are at hand; where only
counts are, equal all-OK counts are reported as such). Exit status 0 only
if every shard is complete on both sides.
"""
import io
import os
import re
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
SIDES = ('native', 'pearvisor')
VERDICT = re.compile(r'[A-Z_0-9]+\(.*\):$')
DONE = re.compile(r'^\d+/\d+ backends passed', re.M)
ANSI = re.compile(r'\x1b\[[0-9;]*m')


def read_shard_list(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'shard (\d+): (.*)$', line.rstrip('\n'))
            if m:
                out[int(m.group(1))] = m.group(2)
    return out


def parse_log(text):
    text = ANSI.sub('', text)
    verdicts = {}
    for line in text.splitlines():
        # As tbo-full.sh's awk: "  OP(params): OK" or "[OP] ERR = ... OP(params): FAIL".
        toks = line.split()
        if len(toks) >= 2 and toks[-1] in ('OK', 'FAIL') and VERDICT.match(toks[-2]):
            verdicts[toks[-2][:-1]] = toks[-1]
    return bool(DONE.search(text)), verdicts


def read_run(d):
    """{(run shard index, side): (completed, ok, fail, verdicts or None)}"""
    res = {}
    logs = {}
    tgz = os.path.join(d, 'logs.tar.gz')
    if os.path.exists(tgz):
        with tarfile.open(tgz) as t:
            for m in t.getmembers():
                mm = re.match(r'shard(\d+)-(native|pearvisor)\.txt$', os.path.basename(m.name))
                if mm:
                    logs[(int(mm.group(1)), mm.group(2))] = t.extractfile(m).read().decode('utf-8', 'replace')
    for (i, side), text in logs.items():
        done, v = parse_log(text)
        ok = sum(1 for x in v.values() if x == 'OK')
        res[(i, side)] = (done, ok, len(v) - ok, v)
    counts = os.path.join(d, 'counts.txt')
    if os.path.exists(counts):
        with open(counts) as f:
            for line in f:
                m = re.match(r'shard(\d+) (native|pearvisor): completed=(yes|no) ok=(\d+) fail=(\d+)', line)
                if m and (int(m.group(1)), m.group(2)) not in res:
                    res[(int(m.group(1)), m.group(2))] = (m.group(3) == 'yes', int(m.group(4)), int(m.group(5)), None)
    return res


def strip_lookahead(defn):
    """OPS@^(?=...)REST or OPS@^(?!...)REST -> OPS@^REST, else None."""
    op, sep, rx = defn.partition('@')
    if not sep or not (rx.startswith('^(?=') or rx.startswith('^(?!')):
        return None
    depth, i = 0, 1
    while i < len(rx):
        c = rx[i]
        if c == '\\':
            i += 2
            continue
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                return op + '@^' + rx[i + 1:]
        i += 1
    return None


def main(dirs):
    suite = []
    with open(os.path.join(HERE, 'tbo-shards.txt')) as f:
        for line in f:
            suite.append(line.split('\t')[0])
    index = {d: i for i, d in enumerate(suite)}
    pieces = {}
    with open(os.path.join(HERE, 'tbo-pieces.txt')) as f:
        for line in f:
            parent, defn, _ = line.rstrip('\n').split('\t')
            pieces.setdefault(int(parent), []).append(defn)
    for p, defs in pieces.items():
        for d in defs:
            if strip_lookahead(d) != suite[p]:
                sys.exit('tbo-pieces.txt: %s is not a piece of shard %d' % (d, p))

    # whole[(shard, side)] = [(run, completed, ok, fail, verdicts, both)]
    whole, parts = {}, {}
    for d in dirs:
        run = os.path.relpath(d)
        defs = read_shard_list(os.path.join(d, 'shards.txt'))
        res = read_run(d)
        for (i, side), r in res.items():
            defn = defs.get(i)
            if defn is None or not r[0]:
                continue
            both = all(res.get((i, s), (False,))[0] for s in SIDES)
            if defn in index:
                whole.setdefault((index[defn], side), []).append((run,) + r + (both,))
            else:
                parent = strip_lookahead(defn)
                if parent in index and defn in pieces.get(index[parent], []):
                    parts.setdefault((index[parent], side, defn), []).append((run,) + r)

    totals = {s: [0, 0, 0] for s in SIDES}  # shards complete, ok, fail
    incomplete, diffs, count_only = [], [], []
    print('shard\tnative ok/fail (run)\tpearvisor ok/fail (run)')
    for i, defn in enumerate(suite):
        row = {}
        for side in SIDES:
            cands = whole.get((i, side), [])
            if cands:
                best = sorted(cands, key=lambda c: (c[5], c[4] is not None))[-1]
                row[side] = (best[2], best[3], best[4], best[0])
            elif i in pieces and all((i, side, p) in parts for p in pieces[i]):
                ok = fail = 0
                v, runs = {}, set()
                for p in pieces[i]:
                    r = parts[(i, side, p)][-1]
                    ok, fail = ok + r[2], fail + r[3]
                    runs.add(r[0])
                    v = None if v is None or r[4] is None else {**v, **r[4]}
                row[side] = (ok, fail, v, '+'.join(sorted(runs)) + ' (%d pieces)' % len(pieces[i]))
        cells = []
        for side in SIDES:
            if side in row:
                ok, fail, _, run = row[side]
                totals[side][0] += 1
                totals[side][1] += ok
                totals[side][2] += fail
                cells.append('%d/%d (%s)' % (ok, fail, run))
            else:
                cells.append('NOT COMPLETE')
                incomplete.append((i, side))
        print('%d\t%s' % (i, '\t'.join(cells)))
        if all(s in row for s in SIDES):
            vn, vp = row['native'][2], row['pearvisor'][2]
            if vn is not None and vp is not None:
                for case in sorted(set(vn) | set(vp)):
                    if vn.get(case) != vp.get(case):
                        diffs.append((i, case, vn.get(case, '-'), vp.get(case, '-')))
            else:
                same = row['native'][:2] == row['pearvisor'][:2] and row['native'][1] == 0
                count_only.append((i, 'equal, all OK' if same else 'NOT COMPARABLE (counts only, not all OK)'))
    print()
    for side in SIDES:
        print('%s: %d of %d shards complete; OK/FAIL %d/%d' % (side, totals[side][0], len(suite), totals[side][1], totals[side][2]))
    print('shards compared by counts only (no logs): %d, %s' % (
        len(count_only), ', '.join('%d %s' % c for c in count_only) or '-'))
    print('cases whose verdict differs (native -> pearvisor): %d' % len(diffs))
    for i, case, a, b in diffs:
        print('  shard %d: %s: %s -> %s' % (i, case, a, b))
    if incomplete:
        print('not complete: ' + ' '.join('%d/%s' % x for x in incomplete))
        return 1
    return 0


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))

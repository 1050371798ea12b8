#!/usr/bin/env python3
"""tbo-shards.py SUPPORT.txt [LIMIT]: split ggml's whole test-backend-ops
suite into shards for bench/h100/tbo-full.sh.

SUPPORT.txt is the output of `test-backend-ops support -b Vulkan0` on the
device under test (every case with SUPPORTED / NOT SUPPORTED). Prints one
shard per line, OPS@PARAMS as tbo-full.sh takes it, then a tab and the
number of supported cases it selects; the shards partition the supported
cases (checked here: every case is in exactly one shard).

Small ops are packed together by name; an op with more than LIMIT (default
120) supported cases is split on its leading parameters (-p is a regex
searched in the case's parameter string, so `^type_a=q4_0,` selects one
type). MUL_MAT's mxfp4 and nvfp4 cases are split further by n: on
lavapipe each n from 2 to 8 compiles its own unrolled matrix-vector
pipeline, up to minutes apiece, and a shard holding them all would
outlast the device's per-call limit.
"""
import re
import sys

HEAVY_BY_N = ('mxfp4', 'nvfp4')


def top_level_split(params):
    """key=value components, splitting on commas outside brackets."""
    out, depth, cur = [], 0, ''
    for ch in params:
        if ch == '[':
            depth += 1
        elif ch == ']':
            depth -= 1
        if ch == ',' and depth == 0:
            out.append(cur)
            cur = ''
        else:
            cur += ch
    out.append(cur)
    return out


def esc(s):
    return re.sub(r'([\\^$.|?*+()\[\]{}])', r'\\\1', s)


def split(op, cases, level, limit):
    """Regexes (each anchored at the start) covering cases, every one
    selecting at most limit cases where the parameters allow."""
    groups = {}
    for c in cases:
        parts = top_level_split(c)
        key = ','.join(parts[:level + 1])
        whole = level + 1 >= len(parts)
        groups.setdefault((key, whole), []).append(c)
    out = []
    batch, batch_n = [], 0
    for (key, whole), cs in groups.items():
        pat = esc(key) + ('$' if whole else ',')
        if len(cs) > limit and not whole:
            out += split(op, cs, level + 1, limit)
            continue
        if batch and (batch_n + len(cs) > limit or len(batch) >= 16):
            out.append(batch)
            batch, batch_n = [], 0
        batch.append(pat)
        batch_n += len(cs)
    if batch:
        out.append(batch)
    return [b if isinstance(b, str) else ('^' + b[0] if len(b) == 1 else '^(?:' + '|'.join(b) + ')')
            for b in out]


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    cases = {}
    line_re = re.compile(r'^\s+([A-Z_0-9]+)\((.*)\): SUPPORTED$')
    with open(path, errors='replace') as f:
        for line in f:
            m = line_re.match(re.sub(r'\x1b\[[0-9;]*m', '', line.rstrip('\n')))
            if m:
                cases.setdefault(m.group(1), []).append(m.group(2))
    shards = []
    small, small_n = [], 0
    for op in sorted(cases, key=lambda o: -len(cases[o])):
        cs = cases[op]
        if len(cs) <= limit:
            if small and small_n + len(cs) > limit:
                shards.append((','.join(small), None))
                small, small_n = [], 0
            small.append(op)
            small_n += len(cs)
            continue
        if op == 'MUL_MAT':
            heavy = [c for c in cs if c.split(',')[0].split('=')[1] in HEAVY_BY_N]
            rest = [c for c in cs if c not in heavy]
            for t in HEAVY_BY_N:
                tc = [c for c in heavy if c.startswith('type_a=%s,' % t)]
                ns = sorted({re.search(r',n=(\d+),', c).group(1) for c in tc}, key=int)
                slow = [n for n in ns if 2 <= int(n) <= 8]
                for n in slow:
                    shards.append((op, r'^type_a=%s,type_b=[^,]*,m=\d+,n=%s,' % (t, n)))
                fast = [n for n in ns if n not in slow]
                if fast:
                    shards.append((op, r'^type_a=%s,type_b=[^,]*,m=\d+,n=(?:%s),' % (t, '|'.join(fast))))
            cs = rest
        for pat in split(op, cs, 0, limit):
            shards.append((op, pat))
    if small:
        shards.append((','.join(small), None))

    # Check the partition: every supported case (the suite lists a few
    # twice; each listing counts) selected by exactly one shard.
    count = []
    hits = [[0] * len(cases[op]) for op in sorted(cases)]
    index = {op: i for i, op in enumerate(sorted(cases))}
    for ops, pat in shards:
        n = 0
        rx = re.compile(pat) if pat else None
        for op in ops.split(','):
            for j, c in enumerate(cases.get(op, [])):
                if rx is None or rx.search(c):
                    hits[index[op]][j] += 1
                    n += 1
        count.append(n)
    total = sum(len(v) for v in cases.values())
    bad = sum(1 for h in hits for x in h if x != 1)
    if bad:
        sys.exit('tbo-shards: %d of %d cases not in exactly one shard' % (bad, total))
    # The queue takes shards in this order: the slow matrix-vector ones
    # first (largest n first), then by size.
    def cost(x):
        m = re.search(r'n=(\d),$', x[0][1] or '')
        return (0, -int(m.group(1))) if m else (1, -x[1])
    for (ops, pat), n in sorted(zip(shards, count), key=cost):
        print('%s\t%d' % (ops + ('@' + pat if pat else ''), n))
    print('tbo-shards: %d shards, %d supported cases' % (len(shards), total), file=sys.stderr)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""tbo-pieces.py SUPPORT.txt...: split the shards of tbo-shards.txt that
outlast one 10-minute device call into pieces (tbo-pieces.txt).

On lavapipe, FLASH_ATTN_EXT with head sizes 512/576 and TOP_K over the
largest rows did not finish within a call even on a 32-core machine with
nothing else running beside them. A piece is the shard's own regex with a
lookahead put in front (`OPS@^(?=...)REST`), so tbo-merge.py can tell whose
piece it is; the lookaheads below split on the parameters that set the work
(nr23 and kv: the grouped-query ratio and the KV length; TOP_K's row
length). The last lookahead of a shard may be negative, taking what the
others leave.

SUPPORT.txt: `test-backend-ops support -b Vulkan0 -o OP` output for the ops
involved (the suite's lines "  OP(params): SUPPORTED"). The partition is
checked here: every supported case of a shard is in exactly one of its
pieces. Then check that test-backend-ops's std::regex agrees, piece by
piece: `test-backend-ops support -b Vulkan0 -o OP -p PIECE | grep -c
SUPPORTED` must print the count in the third column.

Prints tbo-pieces.txt: shard number, piece (OPS@PARAMS), supported cases.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

FA_BY_SHAPE = [r'(?=.*nr23=\[1,1\],kv=113,)', r'(?=.*nr23=\[1,1\],kv=512,)',
               r'(?=.*nr23=\[1,1\],kv=1024,)', r'(?=.*nr23=\[4,1\],)',
               r'(?!.*nr23=\[(?:1,1|4,1)\],)']
RULES = {
    14: FA_BY_SHAPE,   # FLASH_ATTN_EXT hsk=512
    47: FA_BY_SHAPE,   # hsk=576 nh=4
    60: FA_BY_SHAPE,   # hsk=576 nh=1, nr23 1 and 4
    211: [r'(?=.*nr23=\[20,1\],.*sinks=0,)', r'(?=.*nr23=\[20,1\],.*sinks=1,)',
          r'(?!.*nr23=\[20,1\],)'],   # hsk=576 nh=1, the larger nr23
    44: [r'(?=.*ne=\[(?:32768|32779|65536|65547|8193|8192),)',
         r'(?=.*ne=\[(?:131072|131083|262144|262155),)',
         r'(?=.*ne=\[(?:524288|524299|202048|151936),)'],   # TOP_K
}


def main(paths):
    cases = {}
    line_re = re.compile(r'^\s+([A-Z_0-9]+)\((.*)\): SUPPORTED$')
    for p in paths:
        with open(p, errors='replace') as f:
            for line in f:
                m = line_re.match(re.sub(r'\x1b\[[0-9;]*m', '', line.rstrip('\n')))
                if m:
                    cases.setdefault(m.group(1), []).append(m.group(2))
    with open(os.path.join(HERE, 'tbo-shards.txt')) as f:
        shards = [line.split('\t')[0] for line in f]
    for i, lookaheads in RULES.items():
        ops, _, rx = shards[i].partition('@')
        if ',' in ops or not rx.startswith('^'):
            sys.exit('tbo-pieces: shard %d (%s) is not one op with an anchored regex' % (i, shards[i]))
        if ops not in cases:
            sys.exit('tbo-pieces: no SUPPORTED lines for %s' % ops)
        mine = [c for c in cases[ops] if re.search(rx, c)]
        pieces = [ops + '@^' + la + rx[1:] for la in lookaheads]
        counts = [sum(1 for c in mine if re.search(p.partition('@')[2], c)) for p in pieces]
        for c in mine:
            n = sum(1 for p in pieces if re.search(p.partition('@')[2], c))
            if n != 1:
                sys.exit('tbo-pieces: shard %d: %s is in %d pieces' % (i, c, n))
        for p, n in zip(pieces, counts):
            if n:
                print('%d\t%s\t%d' % (i, p, n))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

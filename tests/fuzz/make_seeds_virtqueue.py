#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_virtqueue.c into corpus/virtqueue/.

Each seed is a valid (or deliberately broken) request in the op language
that fuzz_virtqueue.c documents, so the fuzzer starts past the easy parts.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtqueue")
BLK, RNG, CONSOLE = 0, 1, 2
F_INDIRECT, F_EVENT_IDX, F_RO = 1, 2, 0x80
NEXT, WRITE, INDIRECT = 1, 2, 4
RAM = 0x10000   # guest address of RAM offset 0


def head(dev, feat=0, qlog=4):
    return bytes([dev, feat, qlog])


def ram(off, data):
    return bytes([0]) + struct.pack("<HB", off, len(data)) + data


def desc(q, idx, off, length, flags, nxt=0):
    return bytes([1, q, idx]) + struct.pack("<HHBB", off, length, flags, nxt)


def publish(q, h):
    return bytes([2, q, h])


def blk_hdr(typ, sector):
    return struct.pack("<IIQ", typ, 0, sector)


def blk_req(typ, sector, data_len, data_writable, indirect=False):
    ops = ram(0x3000, blk_hdr(typ, sector))
    chain = [(0x3000, 16, 0)]
    if data_len:
        chain.append((0x3100, data_len, WRITE if data_writable else 0))
    chain.append((0x3f00, 1, WRITE))
    if indirect:
        table = b""
        for i, (off, ln, fl) in enumerate(chain):
            more = NEXT if i + 1 < len(chain) else 0
            table += struct.pack("<QIHH", RAM + off, ln, fl | more, i + 1)
        ops += ram(0x3800, table)
        ops += desc(0, 0, 0x3800, len(table), INDIRECT)
    else:
        for i, (off, ln, fl) in enumerate(chain):
            more = NEXT if i + 1 < len(chain) else 0
            ops += desc(0, i, off, ln, fl | more, i + 1)
    return ops + publish(0, 0)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        "blk-read": head(BLK) + blk_req(0, 1, 512, True),
        "blk-write": head(BLK) + blk_req(1, 3, 255, False) + blk_req(4, 0, 0, False),
        "blk-get-id": head(BLK) + blk_req(8, 0, 20, True),
        "blk-indirect-eventidx": head(BLK, F_INDIRECT | F_EVENT_IDX) + blk_req(0, 2, 512, True, True),
        "blk-ro-write": head(BLK, F_RO) + blk_req(1, 0, 512, False),
        "blk-out-of-range": head(BLK) + blk_req(0, 1 << 40, 512, True),
        "rng": head(RNG, F_EVENT_IDX, 3) + desc(0, 0, 0x3000, 64, WRITE) + publish(0, 0),
        "rng-loop": head(RNG) + desc(0, 0, 0x3000, 8, WRITE | NEXT, 1)
                    + desc(0, 1, 0x3000, 8, WRITE | NEXT, 0) + publish(0, 0),
        "console-tx": head(CONSOLE, 0, 2) + ram(0x3000, b"hello")
                      + desc(1, 0, 0x3000, 5, 0) + publish(1, 0),
        "console-rx": head(CONSOLE, F_INDIRECT, 2) + desc(0, 0, 0x3000, 64, WRITE) + publish(0, 0),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

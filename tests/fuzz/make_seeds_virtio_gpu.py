#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_virtio_gpu (tests/fuzz/corpus/virtio_gpu):
one file per scenario, in the record format fuzz_virtio_gpu.c documents."""
import os
import struct
import sys

RAM = 0x10000


def hdr(t, flags=0, fence=0, ctx=0, ring=0):
    return struct.pack('<IIQIB3x', t, flags, fence, ctx, ring)


def rec(req, resp=64, flags=0, split=255):
    return struct.pack('<BBHH', flags, split, len(req), resp) + req


def create_2d(rid, w, h, fmt=2):
    return rec(hdr(0x101) + struct.pack('<IIII', rid, fmt, w, h))


def attach(rid, ents):
    body = struct.pack('<II', rid, len(ents))
    for a, l in ents:
        body += struct.pack('<QII', a, l, 0)
    return rec(hdr(0x106) + body)


def transfer(rid, x, y, w, h, off):
    return rec(hdr(0x105) + struct.pack('<IIIIQII', x, y, w, h, off, rid, 0))


def scanout(rid, w, h, sid=0):
    return rec(hdr(0x103) + struct.pack('<IIIIII', 0, 0, w, h, sid, rid))


def flush(rid, w, h):
    return rec(hdr(0x104) + struct.pack('<IIIIII', 0, 0, w, h, rid, 0))


def ctx_create(ctx, capset=4):
    return rec(hdr(0x200, ctx=ctx) + struct.pack('<II', 4, capset) + b'fuzz'.ljust(64, b'\0'))


def blob(ctx, rid, size, mem=2, flags=1, ents=()):
    body = struct.pack('<IIIIQQ', rid, mem, flags, len(ents), 0, size)
    for a, l in ents:
        body += struct.pack('<QII', a, l, 0)
    return rec(hdr(0x10c, ctx=ctx) + body)


def map_blob(rid, off):
    return rec(hdr(0x208, ctx=1) + struct.pack('<IIQ', rid, 0, off))


def submit(ctx, data, fence=0, ring=0, flags=0):
    return rec(hdr(0x207, flags, fence, ctx, ring) + struct.pack('<II', len(data), 0) + data,
               flags=flags >> 8)


seeds = {
    '2d_scanout': create_2d(1, 8, 4) + attach(1, [(RAM + 0x8000, 128)]) +
    scanout(1, 8, 4) + transfer(1, 0, 0, 8, 4, 0) + flush(1, 8, 4) +
    rec(hdr(0x102) + struct.pack('<II', 1, 0)),
    '2d_hostile': create_2d(1, 100000, 4) + create_2d(2, 4, 4) +
    attach(2, [(0x1000, 64), (RAM + 0xfff0, 64)]) + transfer(2, 3, 3, 4, 4, 1 << 60) +
    scanout(7, 4, 4) + rec(hdr(0x7777)) + rec(b'\x01\x01'),
    'display_capset': rec(hdr(0x100), 408) + rec(hdr(0x108) + struct.pack('<II', 0, 0), 40) +
    rec(hdr(0x109) + struct.pack('<II', 4, 0), 184),
    'ctx_blob_map': ctx_create(1) + blob(1, 10, 8192) + map_blob(10, 0x2000) +
    blob(1, 11, 4096) + map_blob(11, 0x3000) + map_blob(11, 0xff000) +
    rec(hdr(0x209) + struct.pack('<II', 10, 0)) + rec(hdr(0x201, ctx=1)),
    'fences': ctx_create(1) + submit(1, b'\0' * 8, 5, 0, 1) + submit(1, b'\0' * 8, 6, 1, 3) +
    struct.pack('<BBHH', 2, 255, 0, 32) + submit(1, b'\xff' * 8, 7, 2, 3) + rec(hdr(0x201, ctx=1)),
    'guest_blob': blob(0, 20, 4096, mem=1, flags=0, ents=[(RAM + 0x8000, 4096)]) +
    blob(0, 21, 4096, mem=1, flags=0, ents=[(RAM + 0x20000, 4096)]),
    'cursor': rec(hdr(0x301) + b'\0' * 32, flags=1),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'virtio_gpu')
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)

#!/usr/bin/env python3
"""Writes seed inputs for fuzz_vtest_client (tests/fuzz/corpus/vtest_client):
the byte streams a Mesa Venus client sends over vtest, in Mesa's order.

Input layout: [piece u8] then the client's bytes; the harness writes them
over the socket `piece` bytes at a time (0: 4096), so messages arrive split
or coalesced. Commands and fields follow src/vtest/vtest_wire.h.
Run: python3 tests/fuzz/make_seeds_vtest_client.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "vtest_client")

RESOURCE_UNREF, SUBMIT_CMD, BUSY_WAIT, CREATE_RENDERER = 3, 6, 7, 8
PING, PROTOCOL_VERSION, GET_PARAM, GET_CAPSET, CONTEXT_INIT = 10, 11, 15, 16, 17
CREATE_BLOB, SYNC_CREATE, SYNC_UNREF, SYNC_READ, SYNC_WRITE, SYNC_WAIT, SUBMIT_CMD2 = range(18, 25)


def msg(cmd, *dwords):
    return struct.pack("<II", len(dwords), cmd) + struct.pack(f"<{len(dwords)}I", *dwords)


def handshake(name=b"fuzz"):
    n = name + b"\0"
    s = struct.pack("<II", len(n), CREATE_RENDERER) + n
    s += msg(PING) + msg(BUSY_WAIT, 0, 0)
    s += msg(PROTOCOL_VERSION, 3) + msg(GET_PARAM, 1) + msg(GET_CAPSET, 4, 0)
    return s + msg(CONTEXT_INIT, 4)


def submit2(batches, header_dw=6):
    """batches: (cmds, ring, [(sync_id, value)])"""
    hdr = 1 + header_dw * len(batches)
    cs_off = hdr
    sync_off = hdr + sum(len(b[0]) for b in batches)
    heads, body, syncs = [], [], []
    for cmds, ring, sl in batches:
        h = [1, cs_off, len(cmds), sync_off, len(sl), ring] + [0] * (header_dw - 6)
        heads += h
        body += cmds
        for sid, val in sl:
            syncs += [sid, val & 0xffffffff, val >> 32]
        cs_off += len(cmds)
        sync_off += 3 * len(sl)
    return msg(SUBMIT_CMD2, len(batches), *heads, *body, *syncs)


def seeds():
    hs = handshake()
    yield "handshake", 0, hs
    syncs = msg(SYNC_CREATE, 0, 0) + msg(SYNC_CREATE, 5, 0)
    yield "syncs", 0, hs + syncs + msg(SYNC_WRITE, 1, 7, 0) + msg(SYNC_READ, 1) + \
        msg(SYNC_WAIT, 0, 100, 1, 7, 0) + msg(SYNC_WAIT, 1, 0, 1, 9, 0, 2, 5, 0) + \
        msg(SYNC_UNREF, 2)
    yield "blob", 3, hs + msg(CREATE_BLOB, 2, 1, 8192, 0, 0, 0) + msg(RESOURCE_UNREF, 1)
    yield "submit", 7, hs + syncs + msg(SUBMIT_CMD, 0, 0) + \
        submit2([([0, 0], 1, [(1, 3)]), ([0], 2, [(2, 6)]), ([], 0, [])]) + \
        msg(SYNC_WAIT, 0, 1000, 1, 3, 0)
    yield "submit_8dw", 1, hs + syncs + submit2([([0, 0, 0], 3, [(1, 1), (2, 9)])], 8)
    yield "lost", 0, hs + msg(SUBMIT_CMD, 0xff) + msg(SYNC_READ, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, piece, data in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([piece]) + data)


if __name__ == "__main__":
    main()

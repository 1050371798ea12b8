#!/usr/bin/env python3
"""Checks a screenshot of L2's fbcon console (tests/suites/45-nested-gpu.sh).

L2 (guest/nested/pv-test-init, action fbcon) cleared tty1, hid the cursor and
printed 80 'H' on text row 10 and "PV-SCANOUT <token>" on text row 12. This
decodes the PNG with the standard library only and checks:
  - the size is the scanout's (1280x800 unless --size says otherwise);
  - exactly two bands of rows hold anything but the background, and the
    background is dark;
  - band 1 is a run of one glyph: its foreground spans 80 cells and repeats
    with the font width (each cell equals the next), each cell mixes
    foreground and background (glyph structure, not a filled block), and
    its rows differ (the bar of the H);
  - band 2 spans exactly len(marker) cells, is not periodic like band 1,
    and both bands sit on text rows 10 and 12 of the detected font height.
Exit status 0 when all hold, 1 otherwise (the reasons are printed).

usage: check-scanout.py PNG MARKER [--size WxH]
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG signature')
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            raise ValueError('bad CRC in chunk %r' % kind)
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
        pos += 12 + n
    if not hdr:
        raise ValueError('no IHDR')
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('unsupported PNG (depth %d, colour type %d, interlace %d)'
                         % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ValueError('image data is %d bytes, expected %d' % (len(raw), h * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
            elif f != 0:
                raise ValueError('bad filter type %d in row %d' % (f, y))
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def bands_of(ys):
    out = []
    for y in ys:
        if out and y == out[-1][1] + 1:
            out[-1][1] = y
        else:
            out.append([y, y])
    return out


def check(path, marker, want_w, want_h):
    errors = []
    w, h, px = read_png(path)
    print('scanout %s: %dx%d' % (path, w, h))
    if (w, h) != (want_w, want_h):
        return ['size %dx%d, expected %dx%d' % (w, h, want_w, want_h)]
    counts = {}
    for row in px:
        for p in row:
            counts[p] = counts.get(p, 0) + 1
    bg = max(counts, key=counts.get)
    if sum(bg) > 96:
        errors.append('background %r is not dark' % (bg,))
    fg = [[p != bg for p in row] for row in px]
    ys = [y for y in range(h) if any(fg[y])]
    bands = bands_of(ys)
    print('background %r, foreground colours %d, bands of rows %s'
          % (bg, len(counts) - 1, bands))
    if len(bands) != 2:
        return errors + ['%d bands of non-blank rows, expected 2 (the H row and the marker)'
                         % len(bands)]
    (a0, a1), (b0, b1) = bands

    def xs(y0, y1):
        return [x for x in range(w) if any(fg[y][x] for y in range(y0, y1 + 1))]

    ax, bx = xs(a0, a1), xs(b0, b1)
    fw = -(-(ax[-1] + 1) // 80)   # 80 cells end in the 80th cell
    print('band 1: rows %d-%d, columns %d-%d -> font width %d' % (a0, a1, ax[0], ax[-1], fw))
    print('band 2: rows %d-%d, columns %d-%d' % (b0, b1, bx[0], bx[-1]))
    if fw < 5 or fw > 32:
        return errors + ['font width %d from band 1 is implausible' % fw]

    def col(x, y0, y1):
        return tuple(fg[y][x] for y in range(y0, y1 + 1))

    # Band 1: 80 equal cells of one glyph.
    bad = [x for x in range(79 * fw) if col(x, a0, a1) != col(x + fw, a0, a1)]
    if bad:
        errors.append('band 1 is not %d-px periodic (first mismatch at x=%d)' % (fw, bad[0]))
    if ax[0] >= fw:
        errors.append('band 1 starts at x=%d, not in the first cell' % ax[0])
    cell = sum(fg[y][x] for y in range(a0, a1 + 1) for x in range(fw))
    area = fw * (a1 - a0 + 1)
    if not 0.1 * area <= cell <= 0.9 * area:
        errors.append('a band-1 cell has %d of %d pixels lit: not a glyph' % (cell, area))
    if len({tuple(fg[y][:fw]) for y in range(a0, a1 + 1)}) < 2:
        errors.append('band-1 rows are all alike: no glyph structure')
    # Band 2: the marker, len(marker) cells, not a repeat of one glyph.
    n = len(marker)
    if bx[0] >= fw or bx[-1] >= n * fw or bx[-1] < (n - 1) * fw:
        errors.append('band 2 spans x=%d-%d, expected the %d cells of %r (x < %d, last cell lit)'
                      % (bx[0], bx[-1], n, marker, n * fw))
    if all(col(x, b0, b1) == col(x + fw, b0, b1) for x in range((n - 1) * fw)):
        errors.append('band 2 repeats one glyph; the marker has different characters')
    # Text rows 10 and 12 (1-based): two rows apart, so the font height is
    # half the distance between the bands' tops.
    fh = (b0 - a0) // 2
    if (b0 - a0) % 2 or fh < 8 or fh > 64:
        errors.append('bands start at rows %d and %d: not two text rows apart' % (a0, b0))
    elif not (9 * fh <= a0 and a1 < 10 * fh and 11 * fh <= b0 and b1 < 12 * fh):
        errors.append('bands are not on text rows 10 and 12 of a %d-px font' % fh)
    else:
        print('font %dx%d; band 1 on text row 10, band 2 on text row 12' % (fw, fh))
    return errors


def main():
    args = sys.argv[1:]
    want_w, want_h = 1280, 800
    if '--size' in args:
        i = args.index('--size')
        want_w, want_h = (int(v) for v in args[i + 1].split('x'))
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        errors = check(args[0], args[1], want_w, want_h)
    except (OSError, ValueError, zlib.error) as e:
        errors = ['cannot read %s: %s' % (args[0], e)]
    for e in errors:
        print('scanout check: ' + e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())

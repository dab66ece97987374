#!/usr/bin/env python3
"""Writes the crafted files of tests/bad-inputs/ (pure Python: struct, zlib; no numpy).

Each file is small and broken in one way a careless or hostile user could produce; the cases in
tests/bad-inputs/cases.tsv run the rlhash tool on them and state the exact error expected.

    python3 tools/make-bad-inputs.py [folder, default tests/bad-inputs]
"""
import gzip
import io
import math
import os
import struct
import sys
import zlib

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "bad-inputs")
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def npy(dtype, shape, payload, fortran=False, version=1):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (dtype, fortran, shape_text)
    prefix = 10 if version == 1 else 12
    pad = 64 - (prefix + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + payload


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def i32(values):
    return struct.pack("<%di" % len(values), *values)


# Valid companions: 40 items of 4 dimensions in 4 classes, 8-bit packed codes.
ok = [float((i * 7 + d * 3) % 11) for i in range(40) for d in range(4)]
write("feat_ok.npy", npy("<f4", (40, 4), f32(ok)))
write("labels_ok.npy", npy("<i4", (40,), i32([i % 4 for i in range(40)])))
write("codes_ok.npy", npy("|u1", (4, 1), bytes([0, 1, 3, 255])))
write("labels_codes_ok.npy", npy("<i4", (4,), i32([0, 1, 0, 1])))

# Labels.
write("labels_intmax.npy", npy("<i4", (40,), i32([i % 4 for i in range(39)] + [2147483647])))
write("labels_1e8.npy", npy("<i4", (40,), i32([i % 4 for i in range(39)] + [100000000])))
write("labels_negative.npy", npy("<i4", (40,), i32([i % 4 for i in range(20)] + [-3] + [1] * 19)))
write("labels_float.npy", npy("<f4", (40,), f32([float(i % 4) for i in range(40)])))
write("labels_rank3.npy", npy("|u1", (2, 2, 10), bytes(40)))
write("labels_int64_huge.npy", npy("<i8", (40,), struct.pack("<40q", *([1] * 39 + [1 << 40]))))
write("labels_short.npy", npy("<i4", (39,), i32([i % 4 for i in range(39)])))

# Features.
nan = ok[:]
nan[2 * 4 + 1] = math.nan
write("feat_nan.npy", npy("<f4", (40, 4), f32(nan)))
inf = ok[:]
inf[17 * 4 + 3] = -math.inf
write("feat_inf.npy", npy("<f4", (40, 4), f32(inf)))
f64nan = ok[:]
f64nan[0] = math.nan
write("feat_nan_f64.npy", npy("<f8", (40, 4), struct.pack("<160d", *f64nan)))
write("feat_zero_width.npy", npy("<f4", (200, 0), b""))
write("npy_bad_magic.npy", b"\x93NUMPZ" + npy("<f4", (40, 4), f32(ok))[6:])
write("npy_truncated.npy", npy("<f4", (40, 4), f32(ok))[:-5])
write("npy_header_lies.npy", npy("<f4", (4000000, 4), f32(ok)))
write("npy_fortran.npy", npy("<f4", (40, 4), f32(ok), fortran=True))
write("npy_rank3.npy", npy("<f4", (10, 4, 4), f32(ok)))
write("npy_complex.npy", npy("<c8", (40, 2), f32(ok)))
write("npy_empty.npy", b"")
write("npy_negative_dim.npy", npy("<f4", (-40, 4), f32(ok)))
write("npy_huge_dims.npy", npy("<f4", (1 << 62, 1 << 62), f32(ok)))

# IDX (plain and gzip).
idx_ok_header = struct.pack(">BBBBII", 0, 0, 0x08, 2, 40, 4)
write("idx_bad_type.idx", struct.pack(">BBBBII", 0, 0, 0x07, 2, 40, 4) + bytes(160))
write("idx_truncated_header.idx", struct.pack(">BBBB", 0, 0, 0x08, 3) + b"\x00\x00")
write("idx_short_payload.idx", idx_ok_header + bytes(100))
# A 2 KB gzip whose header declares 40 x 4 bytes but which inflates to 4 MB.
write("idx_gzip_bomb.idx.gz", gzip.compress(idx_ok_header + bytes(4 << 20), mtime=0))
write("idx_gzip_truncated.idx.gz", gzip.compress(idx_ok_header + bytes(range(160)), mtime=0)[:-12])
write("idx_gzip_garbage.idx.gz", gzip.compress(idx_ok_header + bytes(160), mtime=0) + b"junk")


# .npz archives.
def zip_entry(name, data, compress, keep=None):
    body = zlib.compress(data)[2:-4] if compress else data
    body = body if keep is None else body[:keep]
    crc = zlib.crc32(data)
    method = 8 if compress else 0
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(body), len(data),
                        len(name), 0) + name.encode() + body
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(body),
                          len(data), len(name), 0, 0, 0, 0, 0, 0)
    return local, central, name


def npz(entries):
    blob, directory = b"", b""
    for name, data, compress, *keep in entries:
        local, central, name = zip_entry(name, data, compress, *keep)
        directory += central[:-4] + struct.pack("<I", len(blob)) + name.encode()
        blob += local
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(blob), 0)
    return blob + directory + end


feat = npy("<f4", (40, 4), f32(ok))
write("npz_two_arrays.npz", npz([("a.npy", feat, False), ("b.npy", feat, False)]))
write("npz_not_zip.npz", b"PK\x03\x04" + bytes(60))
# Compressed entry whose .npy header declares 40 x 4 floats while the entry holds 4 MB of zeros.
write("npz_bomb.npz", npz([("x.npy", npy("<f4", (40, 4), bytes(4 << 20)), True)]))
# The same, cut after 1 KB of deflate data: its declared 4 MB cannot come from 1 KB of deflate,
# which is refused before anything is inflated.
write("npz_bomb_cut.npz", npz([("x.npy", npy("<f4", (40, 4), bytes(4 << 20)), True, 1024)]))
bad_crc = bytearray(npz([("x.npy", feat, False)]))
bad_crc[200] ^= 0xFF
write("npz_bad_crc.npz", bytes(bad_crc))

# .fvecs.
write("vecs_truncated.fvecs", struct.pack("<i4f", 4, 1, 2, 3, 4) + struct.pack("<i2f", 4, 1, 2))
write("vecs_mixed_dims.fvecs", struct.pack("<i4f", 4, 1, 2, 3, 4) + struct.pack("<i3f", 3, 1, 2, 3))
write("vecs_negative_dim.fvecs", struct.pack("<i4f", -4, 1, 2, 3, 4))


# Model files: the RLHMODEL envelope (magic, u32 version, u64 payload size, payload, u32 crc32).
def envelope(payload, version=1, magic=b"RLHMODEL", declared=None, crc=None):
    head = magic + struct.pack("<IQ", version, len(payload) if declared is None else declared) + payload
    return head + struct.pack("<I", zlib.crc32(head) if crc is None else crc)


write("model_text.rlh", b"this is not a model file at all\n")
write("model_version9.rlh", envelope(b"\x00" * 16, version=9))
write("model_truncated.rlh", envelope(b"\x03" * 64)[:-20])
write("model_declares_huge.rlh", envelope(b"\x00" * 16, declared=1 << 40))
write("model_bad_crc.rlh", envelope(b"\x00" * 16, crc=12345))
write("model_checkpoint_magic.rlh", envelope(b"\x00" * 16, magic=b"RLHCKPT1"))
name = b"no-such-method"
write("model_unknown_method.rlh", envelope(struct.pack("<Q", len(name)) + name + struct.pack("<i", 8)))

# Code files.
write("codes_bits01_bad.npy", npy("|u1", (4, 8), bytes([0, 1, 2, 0, 1, 0, 1, 0] + [0] * 24)))
write("codes_wrong_width.npy", npy("|u1", (4, 3), bytes(12)))

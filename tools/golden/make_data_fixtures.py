#!/usr/bin/env python3
"""Tiny .npy token files written by NumPy, for ssm4j's token-file reader tests (dev.ssm4j.train.data).

    /opt/golden-venv/bin/python tools/golden/make_data_fixtures.py

Writes into ssm-train/src/test/resources/data/ (tokens are 0, 1, 2, ... times 37 mod 1000, or as noted):
  tokens_i4.npy    int32 little-endian, 11 tokens
  tokens_i8.npy    int64 little-endian, 11 tokens
  tokens_u2.npy    uint16 little-endian, 11 tokens
  tokens_i8_v2.npy int64, .npy format version 2.0 (4-byte header length)
  tokens_2d.npy    int32 of shape (3, 4): the reader must reject it (not 1-D)
  tokens_neg.npy   int64 with a negative token: the reader must reject it
  tokens_f4.npy    float32: the reader must reject it (not an integer dtype)
"""
import os
import sys

import numpy as np
from numpy.lib import format as npformat

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "ssm-train", "src", "test", "resources", "data")


def main():
    os.makedirs(OUT, exist_ok=True)
    base = (np.arange(11) * 37) % 1000
    np.save(os.path.join(OUT, "tokens_i4.npy"), base.astype("<i4"))
    np.save(os.path.join(OUT, "tokens_i8.npy"), base.astype("<i8"))
    np.save(os.path.join(OUT, "tokens_u2.npy"), base.astype("<u2"))
    with open(os.path.join(OUT, "tokens_i8_v2.npy"), "wb") as f:
        npformat.write_array(f, base.astype("<i8"), version=(2, 0))
    np.save(os.path.join(OUT, "tokens_2d.npy"), np.arange(12, dtype="<i4").reshape(3, 4))
    np.save(os.path.join(OUT, "tokens_neg.npy"), np.array([1, 2, -3], dtype="<i8"))
    np.save(os.path.join(OUT, "tokens_f4.npy"), np.array([1, 2, 3], dtype="<f4"))
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main())

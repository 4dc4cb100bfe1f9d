#!/usr/bin/env python3
"""Writes the model fuzzer's seed corpus, tests/fixtures/fuzz/model/: valid
models of the policy's shape (format 2, 15 inputs, 4 actions), the same with
one weight beyond the bound or NaN, a truncated one, and a format-1 model
(7 inputs) that must be refused. Rerun when the format or the observation
changes:  tests/fuzz/model_seeds.py tests/fixtures/fuzz/model"""
import math
import random
import struct
import sys

INPUTS, ACTIONS, VERSION = 15, 4, 2


def parameter_count(inputs, hidden, actions):
    def mlp(outputs):
        widths = [inputs, *hidden, outputs]
        return sum(a * b + b for a, b in zip(widths, widths[1:]))
    return mlp(actions) + mlp(1)


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def model(hidden, inputs=INPUTS, version=VERSION, first=None, seed=1):
    rng = random.Random(seed)
    n = parameter_count(inputs, hidden, ACTIONS)
    params = [rng.gauss(0.0, 0.3) for _ in range(n)]
    if first is not None:
        params[0] = first
    body = b"HEALPPO\0" + struct.pack("<4I", version, inputs, ACTIONS, len(hidden))
    body += struct.pack(f"<{len(hidden)}I", *hidden) + struct.pack("<Q", n)
    body += struct.pack(f"<{n}f", *params)
    return body + struct.pack("<Q", fnv1a(body))


def main(directory):
    seeds = {
        "good-4.model": model([4]),
        "good-8-8.model": model([8, 8]),
        "huge-weight.model": model([4], first=3.4e38),
        "nan-weight.model": model([4], first=math.nan),
        "truncated.model": model([4])[:40],
        "format-1-7-inputs.model": model([4], inputs=7, version=1),
    }
    for name, data in seeds.items():
        with open(f"{directory}/{name}", "wb") as out:
            out.write(data)


if __name__ == "__main__":
    main(sys.argv[1])

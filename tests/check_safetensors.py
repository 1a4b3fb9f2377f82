"""Reads a safetensors file with the standard library only and checks its layout.

Usage: python3 tests/check_safetensors.py FILE [NAME=FIRST_VALUE ...]
Prints each tensor's name, dtype, shape and first values; exits non-zero on any
problem, or when a NAME=FIRST_VALUE expectation does not hold. Written apart from the
C++ reader so that a shared misreading of the format cannot hide.
"""
import json
import math
import struct
import sys

FORMATS = {"F32": ("<f", 4), "F64": ("<d", 8)}


def problem(message):
    sys.exit(f"{sys.argv[1]}: {message}")


def unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        problem(f"duplicate keys in the header: {sorted(keys)}")
    return dict(pairs)


def main():
    data = open(sys.argv[1], "rb").read()
    if len(data) < 8:
        problem(f"only {len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        problem(f"header length {n} runs past the end of the file ({len(data)} bytes)")
    if n % 8:
        problem(f"header length {n} is not a multiple of 8")
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=unique_keys)
    if not isinstance(header, dict):
        problem("header is not a JSON object")
    body = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(v, str) for v in metadata.values()):
        problem("metadata values must be strings")
    spans = []
    first = {}
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            problem(f"{name}: keys {sorted(info)}")
        if info["dtype"] not in FORMATS:
            problem(f"{name}: dtype {info['dtype']}")
        shape = info["shape"]
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            problem(f"{name}: shape {shape}")
        fmt, size = FORMATS[info["dtype"]]
        begin, end = info["data_offsets"]
        count = math.prod(shape)
        if end - begin != count * size:
            problem(f"{name}: data_offsets [{begin}, {end}] do not hold shape {shape}")
        spans.append((begin, end))
        values = [struct.unpack_from(fmt, body, begin + i * size)[0] for i in range(min(count, 4))]
        if values:
            first[name] = values[0]
        print(name, info["dtype"], shape, values)
    spans.sort()
    position = 0
    for begin, end in spans:
        if begin != position:
            problem(f"gap or overlap in data_offsets at byte {begin}, expected {position}")
        position = end
    if position != len(body):
        problem(f"the tensors cover {position} bytes, the data section has {len(body)}")
    for expectation in sys.argv[2:]:
        name, value = expectation.split("=")
        if name not in first or abs(first[name] - float(value)) > 1e-6:
            problem(f"{name}: first value {first.get(name)} != {value}")
    print("ok", len(header), "tensors,", len(metadata), "metadata keys")


main()

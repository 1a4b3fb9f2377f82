"""Reads a safetensors file with the standard library only and checks its layout.

Usage: python3 tests/check_safetensors.py FILE [NAME=FIRST_VALUE ...]
Prints each tensor's name, dtype and shape; exits non-zero on any problem, or when a
NAME=FIRST_VALUE expectation does not hold.
"""
import json
import math
import struct
import sys

SIZES = {"F32": 4, "F64": 8}


def main():
    data = open(sys.argv[1], "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in metadata.values()), "metadata values must be strings"
    spans = []
    first = {}
    for name, info in header.items():
        assert set(info) == {"dtype", "shape", "data_offsets"}, name
        begin, end = info["data_offsets"]
        count = math.prod(info["shape"])
        assert end - begin == count * SIZES[info["dtype"]], name
        spans.append((begin, end))
        if count:
            fmt = "<f" if info["dtype"] == "F32" else "<d"
            first[name] = struct.unpack_from(fmt, body, begin)[0]
        print(name, info["dtype"], info["shape"])
    spans.sort()
    position = 0
    for begin, end in spans:
        assert begin == position, "gap or overlap in data_offsets"
        position = end
    assert position == len(body), "data section size does not match the tensors"
    for expectation in sys.argv[2:]:
        name, value = expectation.split("=")
        assert abs(first[name] - float(value)) < 1e-6, f"{name}: {first[name]} != {value}"
    print("ok", len(header), "tensors,", len(metadata), "metadata keys")


main()

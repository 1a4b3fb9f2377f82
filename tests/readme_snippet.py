#!/usr/bin/env python3
"""Writes README.md's C++ snippet NAME (the ```cpp block after <!-- snippet: NAME -->) to OUT,
so the build compiles and runs the code the README shows."""
import re
import sys

readme, name, out = sys.argv[1:4]
text = open(readme, encoding="utf-8").read()
match = re.search(r"<!-- snippet: " + re.escape(name) + r" -->\n```cpp\n(.*?)\n```", text, re.S)
if not match:
    sys.exit(f"{readme}: no snippet '{name}'")
code = f"// Generated from {readme} (snippet '{name}'); edit the README, not this file.\n" + match.group(1) + "\n"
try:
    if open(out, encoding="utf-8").read() == code:
        sys.exit(0)  # unchanged: keep the timestamp, skip the rebuild
except FileNotFoundError:
    pass
open(out, "w", encoding="utf-8").write(code)

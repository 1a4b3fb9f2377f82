"""Runs every Python snippet of README.md (```python blocks after <!-- snippet: NAME -->)."""
import os
import re

import pytest

README = os.path.join(os.environ.get("AXON_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                      "README.md")
SNIPPETS = re.findall(r"<!-- snippet: (\S+) -->\n```python\n(.*?)\n```", open(README, encoding="utf-8").read(), re.S)


def test_the_readme_has_python_snippets():
    assert len(SNIPPETS) >= 2


@pytest.mark.parametrize("name,code", SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_snippet_runs(name, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{name}", "exec"), {"__name__": "__main__"})

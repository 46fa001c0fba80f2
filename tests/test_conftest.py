"""The suite's own settings (tests/conftest.py) name tests that exist."""

import re
from pathlib import Path

from conftest import LONGEST

ROOT = Path(__file__).resolve().parent.parent


def test_the_longest_tests_named_first_exist():
    """A renamed test would silently lose its place at the front of a worker's half."""
    for nodeid in LONGEST:
        path, name = nodeid.split("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        function = name.split("[")[0]
        assert re.search(rf"^def {function}\(", source, re.MULTILINE), nodeid

"""Running the dashboard's ES modules in Node for tests that check their logic alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest


def node_json(script: str) -> Any:
    """Run ``script`` (an ES module) in Node, with numbers read in one locale (en-US), and
    parse what it prints as JSON. Skips without Node, or fails with
    ``TWINSYNC_REQUIRE_SERVICES=1``."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("TWINSYNC_REQUIRE_SERVICES") == "1":
            pytest.fail("Node.js is not installed (TWINSYNC_REQUIRE_SERVICES=1)")
        pytest.skip("Node.js is not installed")
    result = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                            text=True, timeout=60, check=True,
                            env={**os.environ, "LC_ALL": "en_US.UTF-8", "LANG": "en_US.UTF-8"})
    return json.loads(result.stdout)

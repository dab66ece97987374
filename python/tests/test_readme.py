"""The README's Python example runs as printed, in a fresh interpreter."""
import os
import re
import subprocess
import sys

from conftest import ROOT


def test_readme_python_example(tmp_path):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README.md has no Python example"
    # One OpenMP thread: on a shared 2-core machine OpenMP's spinning threads can make a 2-second
    # fit take a minute; the numbers do not depend on it.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for block in blocks:
        run = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    assert (tmp_path / "itq32.rlh").exists()

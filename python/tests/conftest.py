import os
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def hamming_matrix(q_bits01: np.ndarray, db_bits01: np.ndarray) -> np.ndarray:
    """Brute-force Hamming distances from {0,1} codes [Q, bits] and [N, bits]."""
    return (q_bits01[:, None, :] != db_bits01[None, :, :]).sum(axis=2)


def random_codes(rng: np.random.Generator, n: int, bits: int) -> np.ndarray:
    """{0,1} uint8 codes [n, bits]."""
    return rng.integers(0, 2, size=(n, bits), dtype=np.uint8)


@pytest.fixture(scope="session")
def cli() -> str:
    """The rlhash command-line tool: $RLHASH_CLI, or the build tree's, or the one on PATH."""
    candidates = [os.environ.get("RLHASH_CLI"), str(ROOT / "build" / "apps" / "rlhash" / "rlhash"),
                  shutil.which("rlhash")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    if os.environ.get("RLHASH_REQUIRE_CLI"):
        pytest.fail("RLHASH_REQUIRE_CLI is set but no rlhash CLI was found (set RLHASH_CLI)")
    pytest.skip("no rlhash CLI built (set RLHASH_CLI)")

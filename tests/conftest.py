"""Shared fixtures: a seeded rng and drawn boards (``board_from_string``: X black, O white, . empty)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# Idle OpenMP threads that spin starve everything else on a busy 2-core machine; torch reads this at import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from minigo.go import board_from_string  # noqa: E402

__all__ = ["board_from_string"]


def pytest_configure(config: pytest.Config) -> None:
    # Tests share two cores with each other's subprocesses (GNU Go, workers): torch's spinning OpenMP threads
    # then run several times slower than one thread does.
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20161)


@pytest.fixture
def bench_script():
    """Load ``bench/NAME.py`` as a module (bench scripts are files, not a package): ``bench_script("strength")``."""

    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module

    return load


def pytest_sessionstart(session: pytest.Session) -> None:
    # CI sets MINIGO_REQUIRE_GNUGO so that the GNU Go cross-checks can never pass by being skipped.
    from minigo.gtp_client import find_gnugo

    if os.environ.get("MINIGO_REQUIRE_GNUGO") and find_gnugo() is None:
        raise pytest.UsageError("MINIGO_REQUIRE_GNUGO is set but GNU Go is not installed (apt-get install gnugo)")


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A small local Ray cluster (2 CPUs, ~5 s to start), shut down after the session; skips without Ray, unless
    CI's MINIGO_REQUIRE_RAY makes that an error."""
    if importlib.util.find_spec("ray") is None:
        if os.environ.get("MINIGO_REQUIRE_RAY"):
            pytest.fail("MINIGO_REQUIRE_RAY is set but Ray is not installed (pip install -e '.[ray]')")
        pytest.skip("Ray is not installed (pip install -e '.[ray]')")
    import ray

    from selfplay.ray_farm import connect

    saved = os.environ.get("MINIGO_CACHE")
    os.environ["MINIGO_CACHE"] = str(tmp_path_factory.mktemp("shipped"))  # actors' copies of shipped files
    connect(num_cpus=2)
    yield ray
    ray.shutdown()
    if saved is None:
        del os.environ["MINIGO_CACHE"]
    else:
        os.environ["MINIGO_CACHE"] = saved

"""Shared fixtures. Notebooks and the grading pipeline run in fast mode."""
import os

import pytest

os.environ.setdefault("OPTIMLAB_FAST", "1")
# One BLAS thread: numpy is not imported yet, and on 2 shared cores more threads only contend.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def dask_cluster():
    """A real Dask cluster on 127.0.0.1: a scheduler and 2 worker processes of one thread each,
    shared by the tests that grade on a cluster (tests/test_cluster.py, tests/test_adversarial.py)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster

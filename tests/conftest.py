"""Shared fixtures. Notebooks and the grading pipeline run in fast mode."""
import os

os.environ.setdefault("OPTIMLAB_FAST", "1")
# One BLAS thread: numpy is not imported yet, and on 2 shared cores more threads only contend.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

"""Shared fixtures. Notebooks and the grading pipeline run in fast mode."""
import os

os.environ.setdefault("OPTIMLAB_FAST", "1")

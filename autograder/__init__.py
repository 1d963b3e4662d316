"""Instructor tooling: grading pipeline, hidden-test specs, sample submissions."""

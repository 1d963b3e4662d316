"""Instructor tooling: grading pipeline, hidden-test specs, sample submissions."""
import sys

# nbformat's jsonschema imports rfc3987_syntax, when it is installed, only to check the "iri"
# string format, which no notebook schema uses; that import builds a parser and costs seconds
# at the start of every grading process. Grading kernels (which import the harness) are left alone.
if "ipykernel" not in sys.modules and "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

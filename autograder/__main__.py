"""`python -m autograder` is `optimlab-grade`."""
import sys

from autograder.cli import main

sys.exit(main())

#!/usr/bin/env bash
# Builds the grading environment of the OptimLab autograder for $assignment.
# Gradescope runs it once, as root, when it builds the autograder's image (base image: Ubuntu 22.04).
#
#   GRADESCOPE_ROOT   Gradescope's folder (default /autograder); the zip is unpacked in its source/
#   OPTIMLAB_PYTHON   a Python 3.11 to build the environment with (default: python3.11, installed
#                     from the deadsnakes archive when the image has none)
#   OPTIMLAB_VENV     where the environment goes (default $$GRADESCOPE_ROOT/venv)
set -euo pipefail

ROOT="$${GRADESCOPE_ROOT:-/autograder}"
VENV="$${OPTIMLAB_VENV:-$$ROOT/venv}"
PYTHON="$${OPTIMLAB_PYTHON:-}"

if [ -z "$$PYTHON" ]; then
    if ! command -v python3.11 >/dev/null 2>&1; then
        if [ "$$(id -u)" != 0 ]; then
            echo "setup.sh: there is no python3.11 here and only root can install it; set OPTIMLAB_PYTHON." >&2
            exit 1
        fi
        # Ubuntu 22.04 ships Python 3.10; deadsnakes builds 3.11 for every supported Ubuntu release.
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends software-properties-common gpg-agent
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y --no-install-recommends python3.11 python3.11-venv
    fi
    PYTHON=python3.11
fi

# The course lives outside source/: the grading kernel imports its code but never sees source/
# (nor the master notebook in course/solutions/, which the sandbox hides as it does on any machine).
rm -rf "$$ROOT/course"
cp -R "$$ROOT/source/course" "$$ROOT/course"
chmod -R go-rwx "$$ROOT/source" "$$ROOT/course/solutions"

"$$PYTHON" -m venv "$$VENV"
"$$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    --constraint "$$ROOT/course/constraints.txt" --editable "$$ROOT/course"
"$$VENV/bin/python" -m autograder.gradescope prepare --assignment "$assignment"

"""Runs notebooks top to bottom in this Python's own Jupyter kernel and reports what each cell did.

    python run_notebooks.py REPORT.json NOTEBOOK.ipynb ...

It is run by the Python of another environment (the student edition's fresh venv), so it imports
only what that environment has: nbclient and nbformat, which come with Jupyter. Each notebook is
run in fast mode with errors allowed; the executed notebook is saved beside the original as
NAME.executed.ipynb. The report maps each notebook to the kernel's Python, its failing cells
({index: [exception name, message]}) and the standard output of every cell ({index: text}).
"""
import json
import os
import sys
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient


def run(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "OPTIMLAB_FAST": "1", "MPLBACKEND": "Agg"}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    nbformat.write(nb, path.with_suffix(".executed.ipynb"))
    errors, stdout = {}, {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "error":
                errors[index] = [output.ename, output.evalue]
            elif output.output_type == "stream" and output.name == "stdout":
                stdout[index] = stdout.get(index, "") + output.text
    return {"errors": errors, "stdout": stdout}


def main(report: str, *notebooks: str) -> None:
    spec = KernelSpecManager().get_kernel_spec("python3")
    results = {"kernel_argv0": spec.argv[0], "python": sys.executable}
    results |= {notebook: run(Path(notebook)) for notebook in notebooks}
    Path(report).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])

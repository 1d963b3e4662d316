"""The browser suite's fixtures: one JupyterLab server, one headless Chromium.

The server listens on 127.0.0.1 only, on a free port, with a random token. Its
root is a scratch folder holding copies of `assignments/` and `solutions/` (so
running a notebook in the UI never touches the repository) and `course/`, a
grading folder that is also the server's working directory, so the
formgrader sees that course. Kernels inherit the server's environment: fast
mode and one BLAS thread.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder.course import ASSIGNMENTS, REPO_ROOT, SAMPLES, SOLUTIONS
from autograder.grading import commands_on_path, write_course_config
from lab_ui import close_everything

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
# Without the networking switches Chromium keeps trying to reach Google's services, which
# a closed network refuses; the temporary profile comes from Playwright's launch().
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}

# JupyterLab settings of the test server: never save a notebook behind the test's back, keep
# every cell in the page (no virtual scrolling) so outputs can be read, no news pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return (f"browser tests need Chromium at {CHROMIUM} "
                "(Debian: apt-get install chromium chromium-driver)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"browser tests need the playwright package (pip install -e '.[dev]'): {exc}"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_available():
    reason = _missing()
    if reason:
        pytest.skip(reason)


_written: list[Path] = []


@pytest.fixture(scope="session")
def screenshots():
    """Gives the path of a new PNG under build/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def path(name: str) -> Path:
        _written.append(SCREENSHOTS / f"{name}.png")
        return _written[-1]

    return path


def pytest_terminal_summary(terminalreporter):
    if _written:
        terminalreporter.write_line(f"browser screenshots ({len(_written)}): {SCREENSHOTS}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running JupyterLab server and where its files are."""

    def __init__(self, root: Path, course: Path, port: int, token: str, log: Path, env: dict):
        self.root, self.course, self.port, self.token, self.log, self.env = root, course, port, token, log, env
        self.url = f"http://127.0.0.1:{port}"

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Ends every notebook session (and its kernel), as closing the notebooks would."""
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _started(server: Server, process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            server.api("GET", "status")
            return True
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    process.kill()
    process.wait()
    return False


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyter")
    root, course = base / "root", base / "root" / "course"
    for source in (ASSIGNMENTS, SOLUTIONS):
        for notebook in source.glob("*/*.ipynb"):
            target = root / source.name / notebook.parent.name / notebook.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook, target)
    course.mkdir(parents=True)
    write_course_config(course)
    settings = base / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    token = secrets.token_hex(24)
    commands_on_path()   # nbgrader runs `alembic` by name
    env = {**os.environ, "OPTIMLAB_FAST": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
           "IPYTHONDIR": str(base / "ipython")}
    env.pop("MPLBACKEND", None)
    log = base / "server.log"
    for _ in range(3):   # the free port may be taken before the server binds it
        port = _free_port()
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                   f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
                   "--ServerApp.terminals_enabled=False"]
        with log.open("w") as out:
            process = subprocess.Popen(command, cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(root, course, port, token, log, env)
        if _started(server, process, timeout=90):
            break
    else:
        pytest.fail(f"JupyterLab did not start:\n{server.log_tail()}")
    print(f"JupyterLab for the browser tests: {server.url}/lab (root {root}, log {log})")
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


GRADING = """
import json, sys
from pathlib import Path
from autograder.collect import find_submissions
from autograder.grading import grade_all
results = grade_all(find_submissions(Path(sys.argv[1])), Path(sys.argv[2]), workers=int((sys.argv[3:] or [1])[0]))
fields = ("student", "assignment", "score", "max_score", "manual_pending", "problem")
print(json.dumps([{f: getattr(r, f) for f in fields} for r in results]))
"""


class ClassGrading:
    """Sample submissions of 01_losses autograded into the server's course folder with
    grade_all, in a separate process while the notebook tests use the browser."""

    assignment = "01_losses"
    students = ("reference", "half_done", "softmax_overflow")

    def __init__(self, folder: Path, course: Path, env: dict):
        self.folder = folder
        (folder / self.assignment).mkdir(parents=True)
        for student in self.students:
            shutil.copy(SAMPLES / self.assignment / f"{student}.ipynb", folder / self.assignment)
        self.process = subprocess.Popen([sys.executable, "-c", GRADING, str(folder), str(course)], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._results = None

    def results(self) -> dict[str, dict]:
        """{student: {score, max_score, manual_pending, problem, ...}} once grading is done."""
        if self._results is None:
            out, err = self.process.communicate(timeout=600)
            assert self.process.returncode == 0, f"grading the sample class failed:\n{err[-3000:]}"
            self._results = {r["student"]: r for r in json.loads(out.strip().splitlines()[-1])}
        return self._results


@pytest.fixture(scope="session")
def class_grading(jupyter_server, tmp_path_factory):
    grading = ClassGrading(tmp_path_factory.mktemp("class"), jupyter_server.course, jupyter_server.env)
    yield grading
    if grading.process.poll() is None:
        grading.process.kill()
        grading.process.wait()


@pytest.fixture(scope="session", autouse=True)
def _grade_early(request, _browser_available):
    """Starts grading the sample class at once when a formgrader test will need it."""
    if any("class_grading" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("class_grading")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def lab(browser, jupyter_server):
    """One JupyterLab window for the session, as a person keeps one open."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())   # "leave the page?" when reloading
    page.goto(f"{jupyter_server.url}/lab?reset&token={jupyter_server.token}")
    page.locator("#jp-main-dock-panel").wait_for()
    yield page
    context.close()


@pytest.fixture
def page(lab, jupyter_server):
    """The JupyterLab window; what a test opens is closed again, its kernels shut down."""
    yield lab
    try:
        close_everything(lab)
    except Exception:   # a test that failed half-way may leave a dialog or menu: start afresh
        lab.goto(f"{jupyter_server.url}/lab?reset&token={jupyter_server.token}")
        lab.locator("#jp-main-dock-panel").wait_for()
    jupyter_server.shutdown_kernels()

"""Driving a notebook in JupyterLab as a person does, and reading what the page shows."""
from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
STDERR = "application/vnd.jupyter.stderr"
WIDGET = "application/vnd.jupyter.widget-view+json"
# IPython prints a traceback as a rule, then "<ExceptionName>   Traceback (most recent call last)";
# a SyntaxError has no traceback and ends with "<ExceptionName>: message".
TRACEBACK = re.compile(r"^([A-Za-z_][\w.]*)\s+Traceback \(most recent call last\)", re.M)
LAST_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b")

# Everything the page shows per cell, in notebook order (windowingMode "none" keeps every cell in the DOM).
_READ_CELLS = """
panel => [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => {
  const textOf = el => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('code, pre, mjx-container, script').forEach(e => e.remove());
    return copy.textContent;
  };
  const markdown = cell.querySelector('.jp-RenderedMarkdown');
  return {
    type: cell.classList.contains('jp-CodeCell') ? 'code'
        : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent.trim(),
    outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => ({
      mime: o.dataset.mimeType || '',
      text: o.innerText,
      height: o.getBoundingClientRect().height,
      widgets: o.querySelectorAll('.jupyter-widgets').length,
    })),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
      complete: img.complete, natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
    })),
    math: cell.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
    mathErrors: [...cell.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
    prose: markdown ? textOf(markdown) : '',
  };
})
"""


@dataclass
class Output:
    mime: str
    text: str
    height: float
    widgets: int

    @property
    def error(self) -> str | None:
        """The exception's name if this output is a traceback, else None."""
        if self.mime != STDERR:
            return None
        match = TRACEBACK.search(self.text)
        if match:
            return match.group(1)
        lines = self.text.strip().splitlines()
        last = LAST_LINE.match(lines[-1]) if lines else None
        return last.group(1) if last else None


@dataclass
class Cell:
    index: int
    type: str
    prompt: str
    outputs: list[Output]
    images: list[dict]
    math: int
    mathErrors: list[str]
    prose: str
    errors: list[Output] = field(init=False)

    def __post_init__(self):
        self.outputs = [Output(**o) for o in self.outputs]
        self.errors = [o for o in self.outputs if o.error]

    @property
    def executed(self) -> bool:
        return bool(re.fullmatch(r"\[\d+\]:", self.prompt))

    @property
    def text(self) -> str:
        return "\n".join(o.text for o in self.outputs)


def _timeout() -> type[Exception]:
    from playwright.sync_api import TimeoutError   # imported late: without playwright the suite skips

    return TimeoutError


def menu(page, title: str, command: str) -> None:
    """Clicks the menu `title`, then its item that runs `command`."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{title}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def palette(page, command: str, label: str) -> None:
    """Runs `command` from the command palette (Ctrl+Shift+C, type its label, Enter)."""
    page.keyboard.press("Control+Shift+C")
    search = page.locator(".lm-CommandPalette-input")
    search.fill(label)
    chosen = page.locator(".lm-CommandPalette-item.lm-mod-active")
    assert chosen.get_attribute("data-command") == command, f"the palette offers {chosen.inner_text()!r}"
    search.press("Enter")


def close_everything(page) -> None:
    """File > Close and Shut Down for each open notebook (its kernel stops), then File > Close All Tabs."""
    page.keyboard.press("Escape")   # an open menu
    while page.locator(".jp-NotebookPanel").count():
        before = page.locator(".jp-NotebookPanel").count()
        menu(page, "File", "filemenu:close-and-cleanup")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.wait_for_function("n => document.querySelectorAll('.jp-NotebookPanel').length < n", arg=before)
    if page.locator("#jp-main-dock-panel .lm-TabBar-tab").count():
        menu(page, "File", "application:close-all")


class Notebook:
    """One notebook open in JupyterLab (File > Open from Path...)."""

    def __init__(self, page, server, path: str, num_cells: int):
        self.page, self.server, self.path = page, server, path
        menu(page, "File", "filebrowser:open-path")
        path_input = page.locator(".jp-Dialog input")
        path_input.fill(path)
        path_input.press("Enter")
        self.panel = page.locator(PANEL)
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
        self.page.wait_for_function(  # JupyterLab adds the cells in batches
            "([panel, n]) => panel.querySelectorAll('.jp-Notebook .jp-Cell').length >= n",
            arg=[self.panel.element_handle(), num_cells])
        self._wait_kernel_started(timeout=120)
        self.wait_idle(timeout=120)

    def _wait_kernel_started(self, timeout: float) -> None:
        """Until the server reports this notebook's kernel up and idle (before that the page
        shows an idle indicator too, and Run All would run nothing)."""
        deadline = time.monotonic() + timeout
        while True:
            states = [s["kernel"]["execution_state"] for s in self.server.api("GET", "sessions")
                      if s["path"] == self.path and s.get("kernel")]
            if "idle" in states:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.path}: no kernel after {timeout:.0f} s ({states}):\n"
                                     f"{self.server.log_tail(15)}")
            time.sleep(0.2)

    def wait_typeset(self, formulas: int, timeout: float = 20) -> None:
        """Waits until MathJax has typeset `formulas` formulas (or gives up: the caller
        then reports what is missing)."""
        try:
            self.page.wait_for_function(
                "([panel, n]) => panel.querySelectorAll('.jp-RenderedMarkdown mjx-container').length >= n",
                arg=[self.panel.element_handle(), formulas], timeout=timeout * 1000, polling=250)
        except _timeout():
            pass

    # -- running -----------------------------------------------------------------------------
    def _kernel_status(self) -> str:
        return self.panel.locator(".jp-Notebook-ExecutionIndicator").get_attribute("data-status") or ""

    def wait_idle(self, timeout: float, first_cell: int | None = None) -> None:
        """Waits until the kernel is idle, no cell is queued or running and (if given) cell
        `first_cell` has run: a kernel that is idle between two queued cells is not done."""
        script = """([panel, first]) => {
          const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status');
          const prompts = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map(
              c => (c.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent.trim());
          return status === 'idle' && !prompts.some(p => p.includes('*'))
                 && (first === null || /^\\[\\d+\\]:$/.test(prompts[first]));
        }"""
        handle = self.panel.element_handle()
        try:
            self.page.wait_for_function(script, arg=[handle, first_cell], timeout=timeout * 1000,
                                        polling=100)
        except _timeout() as exc:
            raise AssertionError(f"{self.path}: the kernel did not finish within {timeout:.0f} s "
                                 f"(kernel status {self._kernel_status()!r}); the server says:\n"
                                 f"{self.server.log_tail(15)}") from exc

    def run_all(self, timeout: float = 120) -> float:
        """Run > Run All Cells; waits for the kernel; returns the seconds it took."""
        start = time.monotonic()
        menu(self.page, "Run", "runmenu:run-all")
        self.wait_idle(timeout, first_cell=self.code_cells()[0])
        return time.monotonic() - start

    def run_from(self, index: int, timeout: float = 120) -> float:
        """Selects cell `index` (a click on its prompt) and runs "Run Selected Cell and All Below"
        from the command palette."""
        start = time.monotonic()
        cells = self.panel.locator(".jp-Notebook .jp-Cell")
        cells.nth(index).locator(".jp-InputPrompt").click()
        # "Run Selected Cell and All Below" is disabled on the last cell; "Run Selected Cell"
        # there would add a new cell, "... and Do not Advance" does not.
        if index == cells.count() - 1:
            palette(self.page, "notebook:run-cell", "Run Selected Cell and Do not Advance")
        else:
            palette(self.page, "notebook:run-all-below", "Run Selected Cell and All Below")
        self.wait_idle(timeout, first_cell=index)
        return time.monotonic() - start

    def run_everything(self, timeout: float = 120) -> tuple[float, int]:
        """Runs every cell once, as a student does when a cell fails and stops Run All:
        fix nothing, select the cell after the failing one and run all below, until the end.
        Returns (seconds, number of runs)."""
        seconds, runs = self.run_all(timeout), 1
        while True:
            progress = self._progress()
            pending = [i for i, (_, executed, _) in enumerate(progress) if executed is False]
            if not pending:
                return seconds, runs
            failed = [i for i, (_, _, error) in enumerate(progress[:pending[0]]) if error]
            assert failed, f"{self.path}: cell {pending[0]} did not run and no cell before it failed"
            seconds += self.run_from(pending[0], timeout)
            runs += 1
            assert runs <= len(progress), f"{self.path}: Run All keeps stopping"

    def _progress(self) -> list[tuple[str, bool | None, bool]]:
        """Per cell: its type, whether it ran (None for markdown) and whether it shows a traceback;
        read without laying the page out, unlike cells()."""
        return self.panel.evaluate("""panel => [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map(c => {
            const code = c.classList.contains('jp-CodeCell');
            const prompt = (c.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent.trim();
            const error = [...c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                .some(o => o.textContent.includes('Traceback (most recent call last)'));
            return [code ? 'code' : 'other', code ? /^\\[\\d+\\]:$/.test(prompt) : null, error];
        })""")

    # -- reading -----------------------------------------------------------------------------
    def code_cells(self) -> list[int]:
        return [i for i, (kind, _, _) in enumerate(self._progress()) if kind == "code"]

    def cells(self) -> list[Cell]:
        raw = self.panel.evaluate(_READ_CELLS)
        return [Cell(index=i, **c) for i, c in enumerate(raw)]

    @contextmanager
    def full_height(self, max_height: int = 60_000):
        """Makes the window as tall as the notebook, so that every cell is in view and drawn
        (cells out of view are laid out at an estimated height), e.g. for a screenshot."""
        scroller = self.panel.locator(".jp-WindowedPanel-outer")
        measure = """async e => {
            e.scrollTop = 0;
            await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
            const cells = e.querySelectorAll('.jp-Cell');
            return [cells[cells.length - 1].getBoundingClientRect().bottom - e.getBoundingClientRect().top,
                    e.clientHeight];
        }"""
        viewport = self.page.viewport_size
        try:
            for _ in range(5):   # measured again once the cells that came into view are drawn
                content, visible = scroller.evaluate(measure)
                if content + 20 <= visible:
                    break
                height = int(min(self.page.viewport_size["height"] - visible + content + 60, max_height))
                self.page.set_viewport_size({"width": viewport["width"], "height": height})
            yield
        finally:
            self.page.set_viewport_size(viewport)


def png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size

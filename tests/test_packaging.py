"""The repository's set-up files agree with each other."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^([A-Za-z0-9_.-]+)\s*(.*)$")


def _split(requirement: str) -> tuple[str, str]:
    name, spec = NAME.match(requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_declares_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",))
    python = conda.pop("python")
    assert python == "=3.11"
    assert conda == declared
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e ."]


def test_torch_is_only_an_optional_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    everything = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert not any(_split(r)[0] == "torch" for r in everything)
    assert [_split(r)[0] for r in project["optional-dependencies"]["torch"]] == ["torch"]


def _readme_commands() -> list[str]:
    """The shell commands of the README's first code block, in order."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_leads_with_the_demo_and_the_test_command():
    text = (ROOT / "README.md").read_text()
    first_block = text.index("```")
    assert first_block < text.index("\n## "), "the two commands come before any section"
    demo, tests = _readme_commands()[:2]
    assert "optimlab-grade demo" in demo
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    tests = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()
    assert "torch==" in ci.split(tests)[0], "the CPU build of torch is installed before the tests"

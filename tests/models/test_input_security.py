"""Security of inputs (issue 8, part 5).

YAML is read with the safe loader only (no Python tags), alias expansion is
capped, dataset names cannot leave the datasets folder, oversized files are
refused unread, no code path unpickles or evaluates user data, and the UI
binds to localhost with an upload cap unless told otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models import ScenarioError, load_scenario, loads_scenario, resolve_scenario
from models.datasets import datasets_dir
from models.loading import MAX_EXPANDED_NODES, MAX_FILE_BYTES
from optimizer.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

VALID = ("format: roadmap/v1\nhorizon: 6\nparties: [{id: A}, {id: B}]\n"
         "concessions: [{id: a, party: A, duration: 2}]\n")


def rejected(args: list[str]) -> str:
    """Run the CLI; assert exit 2 with one clean line on stderr and return it."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.stderr.strip()
    assert message and "\n" not in message and "Traceback" not in result.output
    return message


# --------------------------------------------------------------------------
# YAML: safe loader only
@pytest.mark.parametrize("tag", [
    "!!python/object:os.system {}",
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
])
def test_python_tags_are_rejected_and_never_run(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(VALID + "description: " + tag.replace("{marker}", str(marker)) + "\n")
    message = rejected(["validate", str(path)])
    assert message.startswith(f"{path}:")
    assert "could not determine a constructor for the tag" in message
    assert "python/" in message
    assert not marker.exists()


def test_python_tag_is_rejected_by_the_api_too() -> None:
    with pytest.raises(ScenarioError, match="could not determine a constructor"):
        loads_scenario(VALID + "name: !!python/object/apply:os.getcwd []\n", "yaml", "x.yaml")


# --------------------------------------------------------------------------
# YAML: alias expansion guard
def bomb(levels: int) -> str:
    lines = ["format: roadmap/v1", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(9))       # 10 ** 9 leaves once expanded
    message = rejected(["validate", str(path)])
    assert message == (f"{path}: YAML aliases expand to more than {MAX_EXPANDED_NODES:,} "
                       "nodes; refusing to load it")


def test_small_alias_use_stays_allowed(tmp_path: Path) -> None:
    # Anchors are a normal YAML feature; only absurd expansion is refused.
    text = ("format: roadmap/v1\nhorizon: 6\nparties: [{id: A}, {id: B}]\n"
            "concessions:\n  - &base {id: a, party: A, duration: 2}\n"
            "  - {id: b, party: B, duration: 2}\n"
            "observed: {schedule: [{id: a, start: 0, end: 2}]}\n")
    sc = loads_scenario(text, "yaml", "anchors.yaml")
    assert [c.id for c in sc.concessions] == ["a", "b"]
    with pytest.raises(ScenarioError, match="aliases expand"):
        loads_scenario(bomb(8), "yaml", "b.yaml")     # 10 ** 8 leaves


# --------------------------------------------------------------------------
# Dataset names and paths
@pytest.mark.parametrize("name", [
    "../x", "../datasets/us_dprk_2018", "../../etc/passwd", "./us_dprk_2018",
    "us_dprk_2018/../../pyproject", ".hidden", "nonexistent_dataset",
])
def test_dataset_names_cannot_escape(name: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # From an empty working directory, none of these is a file, so each is
    # looked up as a dataset name and refused.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match="not a built-in dataset"):
        resolve_scenario(name)
    message = rejected(["validate", name])
    assert message.startswith(f"{name}: no such file, and not a built-in dataset")


def test_parent_folder_is_not_a_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert rejected(["validate", ".."]) == "..: is not a regular file"


def test_dataset_lookup_only_returns_files_inside_the_folder(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    folder = datasets_dir().resolve()
    found = resolve_scenario("us_dprk_2018")
    assert found.resolve().parent == folder
    assert resolve_scenario("us_dprk_2018.yaml") == found


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/hostname", "/proc/self/environ"])
def test_absolute_paths_to_other_files_are_refused_unread(target: str) -> None:
    if not Path(target).exists():
        pytest.fail(f"{target} is expected on this Linux test machine")
    message = rejected(["validate", target])
    assert message == (f"{target}: unknown file type '' "
                       "(expected .yaml, .yml, .json or .toml)")


def test_a_directory_is_not_a_scenario(tmp_path: Path) -> None:
    folder = tmp_path / "looks_like.yaml"
    folder.mkdir()
    assert rejected(["validate", str(folder)]) == f"{folder}: is not a regular file"


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:        # sparse: no 20 MB actually written
        fh.truncate(MAX_FILE_BYTES + 1)
    message = rejected(["validate", str(path)])
    assert message == (f"{path}: file is {MAX_FILE_BYTES + 1:,} bytes; "
                       f"the limit is {MAX_FILE_BYTES:,}")


def test_loading_a_dataset_by_name_still_works() -> None:
    sc = load_scenario("us_dprk_2018")
    assert sc.format == "roadmap/v1" and sc.concessions


# --------------------------------------------------------------------------
# No unpickling or evaluation of user data anywhere in the shipped code
FORBIDDEN = {
    "pickle.load": re.compile(r"\b(c?pickle|dill|joblib|marshal|shelve)\.(load|loads|open)\b"),
    "eval/exec": re.compile(r"(?<![\w.])(eval|exec)\s*\("),
    "unsafe yaml.load": re.compile(r"\byaml\.(load|load_all|unsafe_load|unsafe_load_all|"
                                   r"full_load|full_load_all)\s*\("),
    "unsafe YAML loader": re.compile(r"\b(Loader\s*=\s*yaml\.Loader|yaml\.(Unsafe|Full)Loader|"
                                     r"yaml\.Loader\b)"),
    "pandas read_pickle": re.compile(r"\bread_pickle\s*\("),
}


def shipped_sources() -> list[Path]:
    skip = {"tests", ".git", ".venv", "venv", "build", "dist", "node_modules", ".hypothesis"}
    return sorted(p for p in ROOT.rglob("*.py")
                  if not skip.intersection(p.relative_to(ROOT).parts))


def test_sources_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in shipped_sources()}
    assert {"models/loading.py", "optimizer/cli/__init__.py",
            "optimizer/solving/stages.py"} <= names


@pytest.mark.parametrize("label", sorted(FORBIDDEN))
def test_no_unsafe_deserialisation_or_eval(label: str) -> None:
    pattern = FORBIDDEN[label]
    hits = []
    for path in shipped_sources():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == [], f"{label} in shipped code:\n" + "\n".join(hits)


@pytest.mark.parametrize(("snippet", "label"), [
    ("data = pickle.load(fh)", "pickle.load"),
    ("x = eval(text)", "eval/exec"),
    ("yaml.load(text, Loader=yaml.Loader)", "unsafe yaml.load"),
    ("yaml.load(text, Loader=yaml.Loader)", "unsafe YAML loader"),
    ("df = pd.read_pickle(path)", "pandas read_pickle"),
])
def test_the_patterns_catch_what_they_are_for(snippet: str, label: str) -> None:
    assert FORBIDDEN[label].search(snippet)


@pytest.mark.parametrize("snippet", [
    "ast.literal_eval(text)", "yaml.safe_load(text)", "model.evaluate(x)",
    "loader = _GuardedLoader(text)", "self.retrieval(x)",
])
def test_the_patterns_leave_safe_code_alone(snippet: str) -> None:
    assert not any(p.search(snippet) for p in FORBIDDEN.values())


# --------------------------------------------------------------------------
# The UI server
def test_ui_binds_to_localhost_with_an_upload_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.cli.ui as cli_ui

    calls: list[list[str]] = []

    def fake_serve(cmd: list[str], *args: Any, **kwargs: Any) -> int:
        calls.append(cmd)
        return 0

    # `roadmap ui` runs the server through `serve` (signal forwarding, no prompt).
    monkeypatch.setattr(cli_ui, "serve", fake_serve)
    result = runner.invoke(app, ["ui", "--headless"])
    assert result.exit_code == 0, result.output
    (cmd,) = calls
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "2"

"""The layers hold: every import runs downward (the contracts in pyproject.toml, checked by import-linter)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BELOW_THE_SCHEDULER = {"core", "campaigns", "ingest", "parsers", "nominees", "validators", "storage", "replies",
                       "service"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _product_modules():
    for package in BELOW_THE_SCHEDULER | {"staff", "forward", "web", "cli"}:
        yield from (ROOT / package).rglob("*.py")


def test_the_import_contracts_hold(monkeypatch, capsys):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    status = lint_imports(no_cache=True)
    printed = capsys.readouterr().out
    assert status == 0, printed[-4000:]
    assert "2 kept, 0 broken" in printed


def test_only_the_command_line_starts_the_scheduler():
    importers = {str(path.relative_to(ROOT)) for path in _product_modules() if "scheduler" in _imports(path)}
    assert importers <= {"cli/service.py"}, importers


def test_the_scheduler_imports_nothing_above_the_service():
    assert _imports(ROOT / "scheduler.py") & {"staff", "forward", "web", "cli"} == set()

"""The installation recipes: the systemd unit verified by systemd itself, the container recipe linted.

No container engine runs here (the `docker` on this machine is a client with no daemon to build
with), so the Dockerfile and compose.yaml are checked by reading them: the Debian packages are
./dev's APT_RUNTIME word for word, the Python packages come from requirements.lock, the service
runs as its own user, every file the recipe copies exists, and the compose file gives the service
a healthy PostgreSQL, its secrets and its volume.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from testing.programs import missing

ROOT = Path(__file__).parent.parent
UNIT = ROOT / "deploy" / "craftsman-intake.service"


def _apt_list(name: str) -> list[str]:
    found = re.search(rf"^{name}=\(([^)]*)\)", (ROOT / "dev").read_text(encoding="utf-8"), re.M)
    return found[1].split()


# --- the systemd unit --------------------------------------------------------------------------


def _unit_here(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's `intake` (verify checks the program exists)."""
    intake = ROOT / ".venv" / "bin" / "intake"
    if not intake.exists():
        missing("no .venv/bin/intake in this checkout (./dev test makes it)")
    text = UNIT.read_text(encoding="utf-8").replace("/opt/craftsman-intake/.venv/bin/intake", str(intake))
    copy = tmp_path / UNIT.name
    copy.write_text(text, encoding="utf-8")
    return copy


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        missing("systemd-analyze is not installed (Debian package systemd; ./dev test installs it)")
    return found


def test_systemd_verifies_the_unit_without_a_word(tmp_path):
    analyze = _systemd_analyze()
    done = subprocess.run([analyze, "verify", str(_unit_here(tmp_path))], capture_output=True, text=True, timeout=60)
    # verify exits 0 over unknown keys (it only warns): any output at all is a fault in the unit
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_systemd_would_catch_a_misspelt_directive(tmp_path):
    analyze = _systemd_analyze()
    broken = _unit_here(tmp_path)
    broken.write_text(broken.read_text(encoding="utf-8").replace("ProtectSystem=", "ProtectSytem="), encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60)
    assert "Unknown key 'ProtectSytem'" in done.stdout + done.stderr


def test_the_unit_runs_as_its_own_user_confined_with_secrets_outside_the_config(tmp_path):
    text = UNIT.read_text(encoding="utf-8")
    service = dict(line.split("=", 1) for line in text.split("[Service]")[1].split("[Install]")[0].splitlines()
                   if "=" in line and not line.startswith("#"))
    assert service["User"] == "intake" and service["ExecStart"].endswith("intake run")
    assert service["ProtectSystem"] == "strict" and service["PrivateTmp"] == "yes" and service["NoNewPrivileges"] == "yes"
    assert service["Restart"] == "on-failure" and service["StateDirectory"] == "craftsman-intake"
    assert "LoadCredential" in text and service["EnvironmentFile"].startswith("-/etc/craftsman-intake/")
    assert int(service["TimeoutStopSec"]) >= 60  # the first SIGTERM finishes the message in hand
    analyze = _systemd_analyze()
    done = subprocess.run([analyze, "security", "--offline=true", str(_unit_here(tmp_path))], capture_output=True,
                          text=True, timeout=60)
    if done.returncode != 0 and "offline" in done.stderr:
        pytest.skip(f"this systemd-analyze cannot judge a unit offline: {done.stderr.strip()}")
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)[1])
    assert exposure <= 4.0, done.stdout  # "OK" in systemd's words; an unconfined unit is 9.6


# --- the container recipe ----------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments left out."""
    found, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
            pending = ""
    return found


def test_the_dockerfile_installs_exactly_the_debian_packages_dev_installs():
    instructions = _instructions(ROOT / "Dockerfile")
    args = {rest.split("=", 1)[0]: shlex.split(rest.split("=", 1)[1])[0] for word, rest in instructions
            if word == "ARG" and "=" in rest}
    assert args["APT_RUNTIME"].split() == _apt_list("APT_RUNTIME")
    installs = [rest for word, rest in instructions if word == "RUN" and "apt-get install" in rest]
    assert len(installs) == 1 and "$APT_RUNTIME" in installs[0]
    extra = set(installs[0].split("apt-get install", 1)[1].split("&&")[0].split()) - {"-y", "--no-install-recommends",
                                                                                    "$APT_RUNTIME"}
    assert extra == {"python3", "python3-venv", "ca-certificates", "tzdata"}  # the interpreter and TLS roots only


def test_the_dockerfile_follows_the_usual_rules():
    instructions = _instructions(ROOT / "Dockerfile")
    words = [word for word, _ in instructions]
    base = dict(instructions)["FROM"]
    assert re.fullmatch(r"debian:12(\.\d+)?-slim|debian:bookworm(-\d+)?-slim", base)  # pinned, Python 3.11 as CI
    assert "ADD" not in words  # COPY only: nothing fetched at build time
    for word, rest in instructions:
        if word == "RUN" and "apt-get install" in rest:
            assert "apt-get update" in rest and "--no-install-recommends" in rest and "rm -rf /var/lib/apt/lists" in rest
        if word == "RUN" and "pip install" in rest:
            assert "-c requirements.lock" in rest and "--no-cache-dir" in rest
        if word == "COPY":
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the checkout"
        if word in ("ENTRYPOINT", "CMD", "HEALTHCHECK") and "[" in rest:
            assert rest[rest.index("["):].startswith('["') or rest.endswith('"]')  # exec form: signals reach intake
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0") and words.index("USER") < words.index("ENTRYPOINT")
    copied = {rest.split()[0].rstrip("/") for word, rest in instructions if word == "COPY"}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    wanted = {p.rstrip("*") for p in packages["packages"]["find"]["include"]} | {f"{m}.py" for m in packages["py-modules"]}
    assert wanted <= copied, f"the image would lack {wanted - copied}"


def test_compose_gives_the_service_postgresql_its_secrets_and_a_volume():
    yaml = pytest.importorskip("yaml", reason="PyYAML (installed with RapidOCR on Python < 3.13) reads compose.yaml")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    db, intake = compose["services"]["db"], compose["services"]["intake"]
    assert db["image"].startswith("postgres:15")  # pg_dump of Debian 12's postgresql-client is 15
    assert "healthcheck" in db and intake["depends_on"]["db"]["condition"] == "service_healthy"
    assert intake["build"] == "." and intake["restart"] == "unless-stopped"
    assert {"imap-password", "smtp-password", "db-password"} <= set(intake["secrets"]) <= set(compose["secrets"])
    assert any(v.endswith(":/var/lib/craftsman-intake") for v in intake["volumes"])
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    config = tomllib.loads((ROOT / "deploy" / "intake.compose.toml").read_text(encoding="utf-8"))
    assert config["database_url"].startswith("postgresql://intake@db/")
    assert config["database_password_file"] == "/run/secrets/db-password"
    assert config["data_path"] == "/var/lib/craftsman-intake"


def test_the_compose_config_is_one_the_service_accepts(tmp_path):
    from service.config import load_config

    config = load_config(ROOT / "deploy" / "intake.compose.toml")
    assert config.mailbox.host == "imap.qq.com" and config.smtp.port == 465

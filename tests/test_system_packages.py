"""tools/system-packages, which `make test` runs first: silent when bubblewrap, the PostgreSQL
server and Chromium are present; installs exactly the missing ones as root or through
password-less sudo; else one line naming them and the install command, and exit 1.

Every run sees only a folder of stubs on PATH (`id`, and `apt-get`, `sudo`, `bwrap`, `chromium`
where a test wants them) and a fake PostgreSQL root: the real apt-get is never called.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support import ROOT

SCRIPT = ROOT / "tools" / "system-packages"
EVERYTHING = ["bubblewrap", "postgresql", "chromium", "fonts-dejavu-core"]
# The files each package installs where the script looks, relative to the stub machine's folder
# (fonts-dejavu-core installs none that it looks for).
FILES = {
    "bubblewrap": ["bin/bwrap"],
    "postgresql": [f"postgresql/16/bin/{name}" for name in ("initdb", "pg_ctl", "createdb")],
    "chromium": ["bin/chromium"],
}
ARMS = "".join(f'    {package}) files="{" ".join(files)}" ;;\n' for package, files in FILES.items())
# The stub machine's installer: puts the files of the packages it is given in place, executable.
INSTALL = """#!/bin/sh
PATH=/usr/bin:/bin
cd {folder}
for package in "$@"; do
  case $package in
{arms}    *) files= ;;
  esac
  for file in $files; do
    mkdir -p "${{file%/*}}" && printf '#!/bin/sh\\n' > "$file" && chmod +x "$file"
  done
done
"""


class Machine:
    """A folder of stubs that is the script's whole PATH, and an empty PostgreSQL root."""

    def __init__(self, folder: Path, uid: int) -> None:
        self.folder = folder
        self.bin = folder / "bin"
        self.postgresql = folder / "postgresql"
        self.apt_log = folder / "apt-get.log"
        self.sudo_log = folder / "sudo.log"
        self.bin.mkdir()
        self.postgresql.mkdir()
        (self.bin / "env").symlink_to(shutil.which("env"))
        self.stub("id", f"echo {uid}")
        install = folder / "install"
        install.write_text(INSTALL.format(folder=folder, arms=ARMS))
        install.chmod(0o755)

    def stub(self, name: str, body: str = "exit 0") -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def provide(self, *packages: str) -> None:
        """Put the files of these packages in place, as installing them would."""
        subprocess.run([self.folder / "install", *packages], check=True, timeout=30)

    def apt_get(self, status: int = 0) -> None:
        """An apt-get that records each call, then, unless it fails with ``status``, puts in
        place the files of the packages it is given."""
        self.stub(
            "apt-get",
            f'echo "$DEBIAN_FRONTEND $*" >> {self.apt_log}\n'
            f'[ {status} = 0 ] || exit {status}\nexec {self.folder / "install"} "$@"',
        )

    def sudo(self, works: bool) -> None:
        """A sudo that records each call, and runs the command (``works``) or refuses it."""
        run = 'shift; exec "$@"' if works else "exit 1"
        self.stub("sudo", f'echo "$*" >> {self.sudo_log}\n{run}')
        self.stub("true")  # for `sudo -n true`

    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text().splitlines() if self.apt_log.exists() else []

    def run(self) -> subprocess.CompletedProcess:
        env = {"PATH": str(self.bin), "POSTGRESQL_ROOT": str(self.postgresql)}
        return subprocess.run(
            [shutil.which("bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
        )


def installed(packages: list[str]) -> list[str]:
    """The apt-get calls (as the stub records them) that install exactly ``packages``."""
    return [
        "noninteractive -qq update",
        f"noninteractive -qq install -y --no-install-recommends {' '.join(packages)}",
    ]


@pytest.mark.parametrize("sudo", ["none", "refused"])
def test_a_user_without_sudo_gets_one_line_naming_the_packages(tmp_path, sudo):
    machine = Machine(tmp_path, uid=1000)
    machine.apt_get()
    if sudo == "refused":
        machine.sudo(works=False)
    result = machine.run()
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert all(package in lines[0] for package in EVERYTHING), lines
    assert "sudo apt-get install -y bubblewrap postgresql chromium fonts-dejavu-core" in lines[0]
    assert machine.apt_calls() == []


def test_everything_present_is_silent(tmp_path):
    machine = Machine(tmp_path, uid=1000)
    machine.provide(*EVERYTHING)
    result = machine.run()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ([], EVERYTHING),
        (["bubblewrap"], ["postgresql", "chromium", "fonts-dejavu-core"]),
        (["postgresql", "bubblewrap"], ["chromium", "fonts-dejavu-core"]),
        (["bubblewrap", "chromium"], ["postgresql"]),
    ],
)
def test_root_installs_exactly_the_missing_packages(tmp_path, present, missing):
    machine = Machine(tmp_path, uid=0)
    machine.provide(*present)
    machine.apt_get()
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert machine.apt_calls() == installed(missing)
    assert machine.run().stderr == "" and len(machine.apt_calls()) == 2  # now all present


def test_passwordless_sudo_installs_through_sudo(tmp_path):
    machine = Machine(tmp_path, uid=1000)
    machine.sudo(works=True)
    machine.apt_get()
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert machine.apt_calls() == installed(EVERYTHING)
    through_sudo = [
        f"-n env DEBIAN_FRONTEND=noninteractive apt-get {call.removeprefix('noninteractive ')}"
        for call in installed(EVERYTHING)
    ]
    assert machine.sudo_log.read_text().splitlines() == ["-n true", *through_sudo]


@pytest.mark.parametrize("apt_get", ["failing", "absent"])
def test_root_without_a_working_apt_get_gets_one_line(tmp_path, apt_get):
    machine = Machine(tmp_path, uid=0)
    machine.provide("bubblewrap", "postgresql")
    if apt_get == "failing":
        machine.apt_get(status=100)
    result = machine.run()
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert "missing: chromium fonts-dejavu-core" in last, result.stderr
    assert "install them with: apt-get install -y chromium fonts-dejavu-core" in last

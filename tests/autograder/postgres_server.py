"""A private, throw-away PostgreSQL server for a test: no system service, no password.

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free port on 127.0.0.1 with
the Unix socket in that folder, one database created with ``createdb``, and always
``pg_ctl stop -m immediate`` and the folder removed afterwards. The server binaries are
Debian's (package ``postgresql``, installed by .ci/run) under /usr/lib/postgresql/*/bin.

PostgreSQL refuses to run as root: as root (CI) every server command runs as the ``postgres``
system user that the Debian package creates, in a folder chowned to it; otherwise as the
current user. Authentication is ``trust``, which is safe only because the server listens on
the loopback alone and lives for one test module.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "postgres"  # created by Debian's postgresql-common
SUPERUSER = "grader"  # the server's superuser role, named by initdb
START_TIMEOUT = 60  # seconds
INITDB_OPTIONS = ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or, as root, the ``postgres`` user) are missing."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str
    folder: Path  # data directory, Unix socket and server log

    def url(self, driver: str = "psycopg") -> str:
        """The SQLAlchemy URL of the database, e.g. ``postgresql+psycopg://u@127.0.0.1:5/db``."""
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{self.database}"


def server_binaries() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding initdb, pg_ctl and createdb."""
    found = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "createdb")):
            major = re.match(r"\d+", folder.parent.name)
            found.append((int(major.group()) if major else 0, folder))
    if not found:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
            "(Debian's `postgresql` package)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root needs the `{SYSTEM_USER}` system user "
                "(created by Debian's `postgresql` package)"
            ) from None
    return max(found)[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def postgres_server(database: str = "gradebook") -> Iterator[PostgresServer]:
    """Start a private server with one empty ``database``; stop and delete it on exit."""
    binaries = server_binaries()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", SYSTEM_USER, "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="autograder-postgres-"))
    if as_root:  # the server user must own its data directory and write its socket and log
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, log = folder / "data", folder / "server.log"

    def run(*command: str) -> None:
        result = subprocess.run(
            [*prefix, str(binaries / command[0]), *command[1:]],
            cwd=folder,  # a folder the server user may enter
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT + 30,
        )
        if result.returncode != 0:
            server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(
                f"{command[0]} exited with {result.returncode}:\n{result.stdout[-3000:]}"
                f"{result.stderr[-3000:]}\n{server_log}"
            )

    try:
        run("initdb", "-D", str(data), "-U", SUPERUSER, *INITDB_OPTIONS)
        port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": port,
            "unix_socket_directories": folder,
            "fsync": "off",  # a throw-away server
            "max_connections": 20,
        }
        server_options = " ".join(f"-c {key}={shlex.quote(str(v))}" for key, v in settings.items())
        timeout = ["-w", "-t", str(START_TIMEOUT)]
        run("pg_ctl", "start", "-D", str(data), "-l", str(log), *timeout, "-o", server_options)
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, database)
        yield PostgresServer("127.0.0.1", port, SUPERUSER, database, folder)
    finally:
        try:
            if (data / "postmaster.pid").exists():  # a server started, even half-way
                run("pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

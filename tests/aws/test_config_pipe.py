"""`--config /dev/stdin` and `--config <(command)`: a config that never touches the disk.

Both are pipes, which can be read once only; the taps read each --config file exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.aws.conftest import tap_config
from tests.conftest import CAPTURED_OUTPUT, ROOT, assert_no_secrets

EXECUTABLE = str(Path(sys.executable).parent / "tap-aws-carbon")


def run(args: list[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    hermetic = ("AWS_", "OTEL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(hermetic)}
    env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    done = subprocess.run(
        [EXECUTABLE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    return done


def records(stdout: str) -> list[dict[str, Any]]:
    messages = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"type"')]
    return [m for m in messages if m["type"] == "RECORD"]


def small_config(fake: Any) -> dict[str, Any]:
    return tap_config(fake, start_date="2025-01-01", end_date="2025-03-01")


def test_config_through_stdin(fake):
    done = run(["--config", "/dev/stdin"], stdin=json.dumps(small_config(fake)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert records(done.stdout)
    assert_no_secrets(done.stdout, done.stderr)


def test_config_through_a_fifo_like_process_substitution(fake, tmp_path):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    settings = small_config(fake)
    # A second, regular file still overrides the pipe's settings, as --config files do.
    override = tmp_path / "override.json"
    override.write_text(json.dumps({"end_date": "2025-02-01"}))

    def write_once() -> None:
        with open(fifo, "w", encoding="utf-8") as pipe:  # blocks until the tap opens it
            pipe.write(json.dumps(settings))

    writer = threading.Thread(target=write_once, daemon=True)
    writer.start()
    done = run(["--config", str(fifo), "--config", str(override)])
    writer.join(timeout=5)
    assert done.returncode == 0, done.stderr[-3000:]
    months = {r["record"]["usage_period_start"][:7] for r in records(done.stdout)}
    assert months == {"2025-01"}, months
    assert_no_secrets(done.stdout, done.stderr)

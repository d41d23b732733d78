"""The three provider fakes serving `sample_data/`, as the demo starts them (its CLI commands)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _serve(stack: ExitStack, module: str, *args: str) -> str:
    """Start `python -m module args`, return the base URL it prints first."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if line.startswith("http"):
            return line.strip()
        if process.poll() is not None:
            break
    raise RuntimeError(f"{module} did not start")


@contextmanager
def sample_services() -> Iterator[dict[str, str]]:
    """Environment for the `dev` Meltano environment, pointing the taps at the fakes."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        ca, key = Path(scratch) / "azure-ca.pem", Path(scratch) / "gcp-key.json"
        aws = _serve(
            stack,
            "tests.fakes.aws_sustainability",
            "--data",
            "sample_data/aws/carbon_emissions.jsonl",
            "--water-data",
            "sample_data/aws/water_allocation.jsonl",
        )
        azure = _serve(
            stack,
            "tests.fakes.azure_arm",
            "--data",
            "sample_data/azure",
            "--port",
            "0",
            "--ca-file",
            str(ca),
        )
        gcp = _serve(
            stack,
            "tests.fakes.gcp_bigquery",
            "--data",
            "sample_data/gcp/bigquery",
            "--port",
            "0",
            "--key-out",
            str(key),
        )
        yield {
            "AWS_SUSTAINABILITY_ENDPOINT_URL": aws,
            "AZURE_ARM_ENDPOINT": azure,
            "AZURE_AUTHORITY_HOST": azure,
            "AZURE_CA_BUNDLE": str(ca),
            "GCP_BIGQUERY_ENDPOINT_URL": gcp,
            "GCP_FAKE_CREDENTIALS_PATH": str(key),
        }


def main() -> None:
    """Serve until stopped; write `export NAME=value` lines for a shell to source."""
    import argparse
    import shlex
    import signal
    import threading

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env-file", type=Path, required=True)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sample_services() as env:
        partial = args.env_file.with_suffix(".partial")
        partial.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))
        partial.replace(args.env_file)  # appears whole: the shell never sources half a file
        stop.wait()


if __name__ == "__main__":
    main()

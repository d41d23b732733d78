"""The suite's benchmarks in one command; prints a Markdown table.

    uv run python benchmarks/run.py [--sizes 0.25,1] [--formats csv,parquet] [--rounds 3]
        [--tags user:team] [--pipeline-size 1] [--pg-size 0.01] [--api-rows 40000]
        [--data DIR] [--skip cur,pipeline,pg,athena,api] [--keep]

1. cur_usage_daily on generated CURs of each size and format (legacy gzip CSV; CUR 2.0 snappy
   Parquet with its `product` and `resource_tags` maps): wall time, CPU time (user + system)
   and peak RSS of the tap (records to /dev/null) against a bare DuckDB `count(…)` scan of the
   same files and of the columns the tap reads. Tap and scan alternate over --rounds rounds;
   each ratio is the median of the rounds' ratios with their range, beside the 1-minute load
   average before and after each round (the machine may be shared).
2. `meltano run tap-aws-carbon target-postgres` on the --pipeline-size CSV CUR versus
   `meltano invoke target-postgres` fed the same tap's recorded messages from a file,
   alternating, each into a fresh schema; the ratio is the pipeline's rate to the loader's.
3. Time to a daily aggregate in PostgreSQL: tap-aws-carbon | target-postgres, versus the generic
   route pipelinewise-tap-s3-csv (every line, from moto S3) | target-postgres + SQL GROUP BY.
4. Bytes Athena scans per billing period (benchmarks/athena_scan.py).
5. Emit rate of carbon_emissions versus a raw orjson loop over the same records (taken from a
   tap run against the local fake), in alternating rounds, best of five passes each; plus the
   stream's whole per-record path.
Generated data goes to --data (benchmarks/data/) and is deleted unless --keep.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tap_aws_carbon.cur_engine import (  # noqa: E402
    ATTRIBUTES,
    DIMENSIONS,
    OPTIONAL_AMOUNTS,
    PRODUCT_MAP_KEYS,
    RESERVATION_ARN,
    SUMS,
    USAGE_START,
    CurFile,
    file_columns,
    tag_columns,
)

from benchmarks.athena_scan import athena_row  # noqa: E402
from benchmarks.generate import data_files, generate, replicate  # noqa: E402

BIN = Path(sys.executable).parent
VENVS = HERE / ".venvs"
DATA = HERE / "data"
PG = {
    "host": "127.0.0.1",
    "port": 5432,
    "user": "postgres",
    "password": "bench",
    "database": "test",
}


@dataclass
class Usage:
    """Wall and CPU seconds and peak RSS of one child process, from the kernel's accounting.

    CPU seconds (user + system) are reported beside wall time because they barely move when
    something else shares the machine, while wall time does."""

    wall: float
    cpu: float
    rss_mb: float
    returncode: int


def measured(command: list, **kwargs) -> Usage:
    """Run `command` under a small launcher that forks, execs and reports the child's usage.

    Linux records the exec'ing process's old memory high-water mark in the child's peak RSS,
    and Python spawns children by vfork, so a child started from this (large) process would
    report at least this process's own peak. The launcher is small, so the figure is the
    command's own."""
    report = DATA / "work" / "usage.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", LAUNCHER, report, *command], check=False, **kwargs)
    return Usage(**json.loads(report.read_text()))


LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({
        "wall": time.perf_counter() - started,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "returncode": os.waitstatus_to_exitcode(status),
    }, out)
"""


def tap_config(path: Path, **config) -> Path:
    base = {"start_date": "2030-01-01", "end_date": "2030-02-01"}
    path.write_text(json.dumps({**base, **config}))
    return path


def catalog_for(config: Path, stream: str, out: Path) -> Path:
    catalog = json.loads(
        subprocess.run(
            [BIN / "tap-aws-carbon", "--config", config, "--discover"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
    out.write_text(json.dumps(catalog))
    return out


SCAN = """
import duckdb, sys, json
files, cols, fmt = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
counts = ', '.join('count("' + c + '")' for c in cols)
db = duckdb.connect(config={'threads': %d})
if fmt == 'parquet':
    source = f"read_parquet({files})"
else:
    import gzip
    names = gzip.open(files[0], 'rt').readline().strip().split(',')
    types = '{' + ', '.join(f"'{n}': 'VARCHAR'" for n in names) + '}'
    source = (f"read_csv({files}, header=true, auto_detect=false, columns={types},"
              " compression='gzip')")
print(db.execute(f'SELECT {counts} FROM {source}').fetchone()[0])
"""


def cur_set(size: float, fmt: str = "csv") -> Path:
    """The generated CUR of `size` GB; sizes above 1 GB link the 1 GB set's files."""
    root = DATA / f"{'cur2' if fmt == 'parquet' else 'cur'}-{size:g}gb"
    if not any(root.rglob("*Manifest.json")):
        if size > 1:
            replicate(cur_set(1, fmt), root, size)
        else:
            generate(root, size, fmt=fmt)
    return root


def cur_uri(root: Path, fmt: str) -> str:
    """What cur_uri names: the report folder (legacy) or the export root (CUR 2.0)."""
    return str(root if fmt == "parquet" else root / "cur" / "daily")


def read_columns(columns: dict[str, str], tags: list[str]) -> list[str]:
    """The file columns the tap reads (cur_engine's projection), for the scan to count: the
    first present name of each field, and a CUR 2.0 map column for fields found only there."""
    groups: list[tuple[str, tuple[str, ...]]] = [
        ("usage_start", USAGE_START),
        *DIMENSIONS.items(),
        *SUMS.items(),
        *OPTIONAL_AMOUNTS.items(),
        ("reservation_arn", RESERVATION_ARN),
        *ATTRIBUTES.items(),
    ]
    found: list[str] = []
    for field, names in groups:
        name = next((n for n in names if n in columns), None)
        if name is None and field in PRODUCT_MAP_KEYS and "product" in columns:
            name = "product"
        if name is not None and name not in found:
            found.append(name)
    for tag in tags:
        name = next((n for n in tag_columns(tag) if n in columns), None)
        if name is None and "resource_tags" in columns:
            name = "resource_tags"
        if name is not None and name not in found:
            found.append(name)
    return found


@dataclass
class Spread:
    """The median of alternating rounds' values, with their range."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def ratio(self) -> str:
        low, high = min(self.values), max(self.values)
        return f"{self.median:.2f}x ({low:.2f}-{high:.2f})"


def load_average() -> str:
    """The 1-minute load average, as `uptime` reports it: what else was using the cores."""
    return Path("/proc/loadavg").read_text().split()[0]


def bench_cur(fmt: str, size: float, work: Path, rounds: int, tags: list[str]) -> dict[str, str]:
    """Tap and bare scan in alternating rounds (tap first, then scan first, ...): medians and
    ranges of the per-round wall and CPU ratios, the largest peak RSS of any round."""
    root = cur_set(size, fmt)
    files = [str(p) for p in data_files(root)]
    gb = sum(Path(f).stat().st_size for f in files) / 1e9
    first = CurFile(Path(files[0]), files[0], "parquet" if fmt == "parquet" else "csv.gz")
    columns = read_columns(file_columns(first), tags)
    scan_command = [
        sys.executable,
        "-c",
        SCAN % (os.cpu_count() or 1),
        json.dumps(files),
        json.dumps(columns),
        fmt,
    ]
    config = tap_config(work / "cur.json", cur_uri=cur_uri(root, fmt), cur_include_tags=tags)
    catalog = catalog_for(config, "cur_usage_daily", work / "cur-catalog.json")
    tap_command = [BIN / "tap-aws-carbon", "--config", config, "--catalog", catalog]
    taps: list[Usage] = []
    scans: list[Usage] = []
    loads = [load_average()]
    for number in range(rounds):
        order = ["tap", "scan"] if number % 2 == 0 else ["scan", "tap"]
        for which in order:
            if which == "scan":
                scans.append(measured(scan_command, stdout=subprocess.DEVNULL))
                continue
            with (work / "cur.out").open("wb") as out:
                taps.append(measured(tap_command, stdout=out, stderr=subprocess.DEVNULL))
        loads.append(load_average())
        print(
            f"  {fmt} {size:g} GB round {number + 1}: tap {taps[-1].wall:.1f} s "
            f"{taps[-1].cpu:.0f} CPU-s {taps[-1].rss_mb:.0f} MB, scan {scans[-1].wall:.1f} s "
            f"{scans[-1].cpu:.0f} CPU-s, load {loads[-1]}",
            flush=True,
        )
    records, stray = _count_output(work / "cur.out")
    ok = all(u.returncode == 0 for u in taps + scans) and not stray
    wall = Spread([t.wall / s.wall for t, s in zip(taps, scans, strict=True)])
    cpu = Spread([t.cpu / s.cpu for t, s in zip(taps, scans, strict=True)])
    tap_wall = statistics.median(t.wall for t in taps)
    tap_cpu = statistics.median(t.cpu for t in taps)
    scan_wall = statistics.median(s.wall for s in scans)
    scan_cpu = statistics.median(s.cpu for s in scans)
    peak = max(t.rss_mb for t in taps)
    kind = "snappy Parquet, CUR 2.0" if fmt == "parquet" else "gzip CSV, legacy"
    return {
        "size": f"{gb:.2f} GB {kind} ({len(files)} files, {len(columns)} columns read)",
        "tap": f"{tap_wall:.1f} s ({tap_cpu:.0f} CPU-s), {peak:.0f} MB peak, {records} records"
        + ("" if ok else f" FAILED ({stray} non-JSON stdout lines)"),
        "scan": f"{scan_wall:.1f} s ({scan_cpu:.0f} CPU-s), "
        f"{max(s.rss_mb for s in scans):.0f} MB peak",
        "ratio": f"{wall.ratio()} time, {cpu.ratio()} CPU; {rounds} rounds, load "
        + "/".join(loads),
    }


def _count_output(path: Path) -> tuple[int, int]:
    """(RECORD messages, stdout lines that are not JSON) of a tap's output."""
    records = stray = 0
    with path.open("rb") as lines:
        for line in lines:
            if line.startswith(b'{"type":"RECORD"'):
                records += 1
            elif line.strip() and not line.startswith(b"{"):
                stray += 1
    return records, stray


def psql(sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(
        host=PG["host"], port=PG["port"], user=PG["user"], dbname=PG["database"], autocommit=True
    ) as conn:
        return (
            conn.execute(sql).fetchall()
            if sql.lstrip().lower().startswith("select")
            else (conn.execute(sql) and [])
        )


def bench_postgres(size: float, work: Path) -> dict[str, str]:
    """Both routes into PostgreSQL from the same files; each timed until the daily table exists."""
    root = cur_set(size)
    target = VENVS / "pg" / "bin" / "target-postgres"
    s3csv = VENVS / "s3csv" / "bin" / "tap-s3-csv"
    row = {"size": f"{sum(p.stat().st_size for p in root.rglob('*.csv.gz')) / 1e6:.0f} MB"}
    if not target.exists() or not s3csv.exists():
        row["ours"] = row["generic"] = "not installed (see --install)"
        return row

    def target_config(schema: str) -> Path:
        path = work / f"target-{schema}.json"
        path.write_text(
            json.dumps(
                {
                    **PG,
                    "default_target_schema": schema,
                    "use_copy": True,
                    "validate_records": False,
                    "load_method": "append-only",
                }
            )
        )
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        return path

    config = tap_config(work / "pg.json", cur_uri=str(root / "cur" / "daily"))
    catalog = catalog_for(config, "cur_usage_daily", work / "pg-catalog.json")
    started = time.perf_counter()
    tap = subprocess.Popen(
        [BIN / "tap-aws-carbon", "--config", config, "--catalog", catalog],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [target, "--config", target_config("bench_ours")],
        stdin=tap.stdout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    ours = time.perf_counter() - started
    days = psql("SELECT count(*) FROM bench_ours.cur_usage_daily")[0][0]
    row["ours"] = f"{ours:.1f} s ({days} daily rows)"
    try:
        row["generic"] = _generic_route(root, work, target, s3csv, target_config("bench_generic"))
        seconds = float(row["generic"].split(" ")[0])
        row["ratio"] = f"{seconds / ours:.1f}x faster"
    except Exception as exc:  # the generic route's failure is a result, not a crash
        row["generic"] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
    return row


def _generic_route(root: Path, work: Path, target: Path, s3csv: Path, target_cfg: Path) -> str:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        creds = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds)
        s3.create_bucket(Bucket="cur-bench")
        # pipelinewise-tap-s3-csv cannot read gzip (discovery fails with UnicodeDecodeError),
        # so it gets the same rows uncompressed; the gunzip is not charged to its time.
        for path in root.rglob("*.csv.gz"):
            plain = work / "generic" / path.relative_to(root).with_suffix("")
            plain.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(path, "rb") as packed, plain.open("wb") as out:
                shutil.copyfileobj(packed, out, 1 << 20)
            s3.upload_file(str(plain), "cur-bench", plain.relative_to(work / "generic").as_posix())
            plain.unlink()
        config = work / "s3csv.json"
        config.write_text(
            json.dumps(
                {
                    **creds,
                    "aws_endpoint_url": endpoint,
                    "bucket": "cur-bench",
                    "start_date": "2000-01-01T00:00:00Z",
                    "tables": [
                        {
                            "table_name": "cur",
                            "search_prefix": "cur/",
                            "key_properties": [],
                            "search_pattern": r"\.csv$",
                            "delimiter": ",",
                        }
                    ],
                }
            )
        )
        env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
        started = time.perf_counter()
        found = subprocess.run(
            [s3csv, "--config", config, "--discover"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        if found.returncode:
            raise RuntimeError("tap-s3-csv --discover: " + found.stderr.strip().splitlines()[-1])
        catalog = json.loads(found.stdout)
        for entry in catalog["streams"]:
            entry["selected"] = True
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = True
        (work / "s3csv-catalog.json").write_text(json.dumps(catalog))
        tap = subprocess.Popen(
            # It reads its catalog from the legacy --properties flag, not --catalog.
            [s3csv, "--config", config, "--properties", work / "s3csv-catalog.json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        subprocess.run(
            [target, "--config", target_cfg],
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        names = {
            n.lower().replace("/", "_").replace(":", "_"): n
            for (n,) in psql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'bench_generic' AND table_name = 'cur'"
            )
        }

        def col(header: str) -> str:
            return '"' + names[header.lower().replace("/", "_").replace(":", "_")] + '"'

        keys = [col(v[0]) for v in DIMENSIONS.values()]
        psql(
            "CREATE TABLE bench_generic.daily AS SELECT left("
            + col(USAGE_START[0])
            + ", 10) AS d, "
            + ", ".join(keys)
            + ", sum(nullif("
            + col(SUMS["usage_amount"][0])
            + ", '')::numeric) AS usage_amount, sum(nullif("
            + col(SUMS["unblended_cost"][0])
            + ", '')::numeric) AS unblended_cost FROM bench_generic.cur GROUP BY "
            + ", ".join(["1", *keys])
        )
        seconds = time.perf_counter() - started
        lines = psql("SELECT count(*) FROM bench_generic.cur")[0][0]
        days = psql("SELECT count(*) FROM bench_generic.daily")[0][0]
        return f"{seconds:.1f} s ({lines} lines loaded, {days} daily rows)"
    finally:
        server.stop()


MELTANO = BIN / "meltano"


def meltano_env(work: Path, root: Path, tags: list[str], schema: str) -> dict[str, str]:
    """The project's dev environment, reading the generated CUR into `schema` of the test
    database; run files and state stay under `work`, plugin venvs are the project's own."""
    sys_dir = work / "meltano-sys"
    if not sys_dir.exists():
        sys_dir.mkdir(parents=True)
        for kind in ("extractors", "loaders"):
            (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    (work / "state").mkdir(exist_ok=True)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))},
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        "MELTANO_STATE_BACKEND_URI": f"file://{work / 'state'}",
        "TAP_AWS_CARBON__SELECT": json.dumps(["cur_usage_daily.*"]),
        "TAP_AWS_CARBON_CUR_URI": cur_uri(root, "csv"),
        "TAP_AWS_CARBON_CUR_INCLUDE_TAGS": json.dumps(tags),
        "TARGET_POSTGRES_DATABASE": PG["database"],
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }


def bench_pipeline(size: float, work: Path, rounds: int, tags: list[str]) -> dict[str, str]:
    """`meltano run tap-aws-carbon target-postgres` versus `meltano invoke target-postgres`
    fed the same tap's messages from a file, in alternating rounds, each into a fresh schema.

    Both go through Meltano with the project's own plugin venvs and settings, so they differ
    only in where the messages come from. The tap aggregates a whole delivery before its first
    record, so its time to first record (from the recording run) is reported beside them."""
    if not (ROOT / ".meltano" / "loaders" / "target-postgres").exists():
        return {"size": f"{size:g} GB", "ours": "not installed (meltano install)", "ratio": ""}
    root = cur_set(size, "csv")
    messages = work / "pipeline-messages.jsonl"
    started = time.perf_counter()
    first_record = 0.0
    recorder = subprocess.Popen(
        [MELTANO, "--environment=dev", "invoke", "tap-aws-carbon"],
        cwd=ROOT,
        env=meltano_env(work, root, tags, "bench_pipeline"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert recorder.stdout is not None
    with messages.open("wb") as out:
        for line in recorder.stdout:
            if not first_record and line.startswith(b'{"type":"RECORD"'):
                first_record = time.perf_counter() - started
            out.write(line)
    if recorder.wait():
        raise RuntimeError("meltano invoke tap-aws-carbon failed")
    records, _stray = _count_output(messages)

    def load(schema: str, command: list, stdin: Path | None) -> Usage:
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        env = meltano_env(work, root, tags, schema)
        with (
            (stdin or Path(os.devnull)).open("rb") as feed,
            (work / f"{schema}.log").open("wb") as log,
        ):
            used = measured(
                command, cwd=ROOT, env=env, stdin=feed, stdout=subprocess.DEVNULL, stderr=log
            )
        if used.returncode:
            raise RuntimeError(f"{schema}: exit {used.returncode}, see {work / schema}.log")
        loaded = psql(f"SELECT count(*) FROM {schema}.cur_usage_daily")[0][0]
        if used.returncode or loaded != records:
            raise RuntimeError(f"{schema}: exit {used.returncode}, {loaded} of {records} rows")
        return used

    run = [
        MELTANO,
        "--environment=dev",
        "run",
        "--full-refresh",
        "tap-aws-carbon",
        "target-postgres",
    ]
    alone = [MELTANO, "--environment=dev", "invoke", "target-postgres"]
    pipelines: list[Usage] = []
    loaders: list[Usage] = []
    loads = [load_average()]
    for number in range(rounds):
        for which in ["run", "alone"] if number % 2 == 0 else ["alone", "run"]:
            if which == "run":
                pipelines.append(load("bench_pipeline", run, None))
            else:
                loaders.append(load("bench_loader", alone, messages))
        loads.append(load_average())
        print(
            f"  pipeline round {number + 1}: meltano run {pipelines[-1].wall:.1f} s, loader "
            f"alone {loaders[-1].wall:.1f} s, load {loads[-1]}",
            flush=True,
        )
    rate = Spread([a.wall / r.wall for r, a in zip(pipelines, loaders, strict=True)])
    run_s = statistics.median(r.wall for r in pipelines)
    alone_s = statistics.median(a.wall for a in loaders)
    gb = sum(p.stat().st_size for p in data_files(root)) / 1e9
    return {
        "size": f"{gb:.2f} GB gzip CSV, {records} records",
        "ours": f"{run_s:.1f} s ({records / run_s:,.0f} records/s; the recording run's "
        f"first record came after {first_record:.0f} s)",
        "loader": f"{alone_s:.1f} s ({records / alone_s:,.0f} records/s)",
        "ratio": f"{rate.ratio()} the loader's rate; {rounds} rounds, load " + "/".join(loads),
    }


def bench_api(rows: int, work: Path) -> dict[str, str]:
    """singer-sdk's emit path for carbon_emissions versus a raw orjson loop, same records.

    Records come from a real tap run against the local fake; both loops then run in-process
    over those records, writing to /dev/null, so HTTP serving does not dilute the figure. The
    ratio is best against best; the rounds' own ratios show how much the machine wavered."""
    from tests.fakes.aws_data import synthetic_rows
    from tests.fakes.aws_sustainability import SustainabilityFake

    months = max(1, rows // 1500)
    accounts = [f"{n:012d}" for n in range(100)]
    data = synthetic_rows(date(2010, 1, 1), months, accounts=accounts)
    with SustainabilityFake(data) as fake:
        config = tap_config(
            work / "api.json",
            sustainability_endpoint_url=fake.url,
            aws_access_key_id="AKIDBENCH",
            aws_secret_access_key="bench",
            start_date="2010-01-01",
            end_date=f"{2010 + months // 12 + 1}-01-01",
            max_requests_per_second=0,
        )
        catalog = catalog_for(config, "carbon_emissions", work / "api-catalog.json")
        with (work / "api.out").open("wb") as out:
            measured(
                [BIN / "tap-aws-carbon", "--config", config, "--catalog", catalog],
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
    records = [line for line in (work / "api.out").open() if line.startswith('{"type":"RECORD"')]
    (work / "records.jsonl").write_text("".join(records))
    raw_python = VENVS / "orjson" / "bin" / "python"
    rounds: list[tuple[float, float, float]] = []
    # Alternate the loops round by round so a slow spell of a shared machine hits both alike.
    for _ in range(EMIT_ROUNDS):
        sdk = _rates([sys.executable, "-c", SDK_LOOP, config, work / "records.jsonl"])
        raw = _rates([raw_python, "-c", RAW_LOOP, config, work / "records.jsonl"])
        rounds.append((sdk[0], sdk[1], raw[0]))
        print(f"emit round: {sdk[0]:,.0f} / {sdk[1]:,.0f} / {raw[0]:,.0f} rec/s", flush=True)
    write, full, raw_rate = (max(r[i] for r in rounds) for i in range(3))
    ratios = sorted(r[0] / r[2] for r in rounds)
    return {
        "records": str(len(records)),
        "tap": f"{write:,.0f} rec/s",
        "full": f"{full:,.0f} rec/s",
        "raw": f"{raw_rate:,.0f} rec/s",
        "ratio": f"{write / raw_rate:.2f}x",
        "full_ratio": f"{full / raw_rate:.2f}x",
        "spread": f"{ratios[0]:.2f}x-{ratios[-1]:.2f}x",
    }


def _rates(command: list) -> list[float]:
    command = [*command, str(EMIT_PASSES)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    return [float(v) for v in out.strip().splitlines()[-1].split()]


EMIT_ROUNDS = 5
EMIT_PASSES = 5

# Both loops take (config, records file, passes), make that many passes over the records and
# print their best rate in records/s; every message goes to /dev/null through fd 1 and is
# flushed, as a tap does. The SDK loop prints two rates: the stream's RECORD path
# (`_write_record_message`, where the writer and conformance level act) and the whole
# per-record path of `_sync_records` (bookmarks, child contexts, metrics), with the records
# replayed from memory instead of fetched. Only this timing harness calls those private SDK
# methods; the taps themselves emit through the SDK's own path (no direct route since issue 13).
SDK_LOOP = """
import json, os, sys, time
from tap_aws_carbon.tap import TapAwsCarbon
tap = TapAwsCarbon(config=json.load(open(sys.argv[1])), parse_env_config=False)
stream = tap.streams["carbon_emissions"]
records = [json.loads(line)["record"] for line in open(sys.argv[2])]
stream.get_records = lambda context: iter(records)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

def best(loop):
    seconds = []
    for _ in range(int(sys.argv[3])):
        started = time.perf_counter()
        loop()
        seconds.append(time.perf_counter() - started)
    return len(records) / min(seconds)

def write():
    for record in records:
        stream._write_record_message(record)

def sync():
    for _ in stream._sync_records(None):
        pass

print(best(write), best(sync), file=sys.stderr)
"""

RAW_LOOP = """
import os, sys, time, orjson
records = [orjson.loads(line)["record"] for line in open(sys.argv[2], "rb")]
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
out = sys.stdout.buffer
seconds = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    for r in records:
        message = {"type": "RECORD", "stream": "carbon_emissions", "record": r}
        out.write(orjson.dumps(message) + b"\\n")
        out.flush()
    seconds.append(time.perf_counter() - started)
print(len(records) / min(seconds), file=sys.stderr)
"""


def install() -> None:
    """Throwaway venvs from PyPI for the generic route, the loader and the raw loop."""
    for name, packages in {
        "s3csv": ["pipelinewise-tap-s3-csv==3.0.1"],
        "pg": ["meltanolabs-target-postgres==0.8.1"],
        "orjson": ["orjson"],
    }.items():
        venv = VENVS / name
        if not (venv / "bin" / "python").exists():
            subprocess.run(["uv", "venv", "-q", "-p", "3.11", venv], check=True)
        subprocess.run(
            ["uv", "pip", "install", "-q", "--python", venv / "bin" / "python", *packages],
            check=True,
        )


def main() -> None:
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.25,1", help="CUR sizes in GB, e.g. 1,5")
    parser.add_argument("--formats", default="csv,parquet", help="CUR formats: csv, parquet")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per ratio")
    parser.add_argument("--tags", default="", help="cur_include_tags, comma list (user:team)")
    parser.add_argument(
        "--pipeline-size", type=float, default=1, help="GB of CSV CUR for the Meltano row"
    )
    parser.add_argument("--pg-size", type=float, default=0.01, help="GB for the Postgres routes")
    parser.add_argument("--api-rows", type=int, default=40_000)
    parser.add_argument("--data", type=Path, default=HERE / "data", help="generated data")
    parser.add_argument("--keep", action="store_true", help="keep generated data")
    parser.add_argument("--skip", default="", help="comma list of cur,pipeline,pg,api to skip")
    args = parser.parse_args()
    DATA = args.data.resolve()
    install()
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    skip = set(args.skip.split(","))
    tags = [t for t in args.tags.split(",") if t]
    free = shutil.disk_usage(DATA).free / 1e9
    sizes = [float(s) for s in args.sizes.split(",")]
    formats = [f for f in args.formats.split(",") if f]
    if sum(sizes) * len(formats) * 1.2 > free:
        sys.exit(f"{sum(sizes):.1f} GB per format need more than the {free:.0f} GB free")
    lines = [
        f"machine: {os.cpu_count()} cores, {_memory_gb()} GB RAM, Python {sys.version.split()[0]}",
        "",
        "| benchmark | input | ours | baseline | ratio |",
        "|---|---|---|---|---|",
    ]
    try:
        if "cur" not in skip:
            for size in sizes:
                for fmt in formats:
                    r = bench_cur(fmt, size, work, args.rounds, tags)
                    lines.append(
                        f"| cur_usage_daily vs DuckDB count scan | {r['size']} | {r['tap']} | "
                        f"{r['scan']} | {r['ratio']} |"
                    )
                    print(lines[-1], flush=True)
        if "pipeline" not in skip and args.pipeline_size:
            r = bench_pipeline(args.pipeline_size, work, args.rounds, tags)
            lines.append(
                f"| meltano run tap-aws-carbon target-postgres vs target-postgres alone on "
                f"the recorded messages | {r['size']} | {r['ours']} | {r.get('loader', '')} | "
                f"{r['ratio']} |"
            )
            print(lines[-1], flush=True)
        if "pg" not in skip:
            r = bench_postgres(args.pg_size, work)
            lines.append(
                f"| daily aggregate in PostgreSQL vs tap-s3-csv + target-postgres + "
                f"GROUP BY | {r['size']} | {r['ours']} | {r['generic']} | "
                f"{r.get('ratio', 'n/a')} |"
            )
            print(lines[-1], flush=True)
        if "athena" not in skip:
            lines.append(athena_row(work))  # bytes Athena scans per period vs table size
            print(lines[-1], flush=True)
        if "api" not in skip:
            r = bench_api(args.api_rows, work)
            lines.append(
                f"| carbon_emissions emit rate vs raw orjson loop | {r['records']} records "
                f"| {r['tap']} | {r['raw']} | {r['ratio']} (rounds {r['spread']}) |"
            )
            lines.append(
                f"| carbon_emissions whole per-record path vs raw orjson loop | "
                f"{r['records']} records | {r['full']} | {r['raw']} | {r['full_ratio']} |"
            )
    finally:
        if not args.keep:
            shutil.rmtree(DATA, ignore_errors=True)
    print("\n".join(lines))


def _memory_gb() -> int:
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)


if __name__ == "__main__":
    main()

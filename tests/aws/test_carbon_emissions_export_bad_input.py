"""Bad export files: one line naming the file (and row) and what to do; state never passes them."""

from __future__ import annotations

import gzip
from datetime import date

import pytest
from carbon_taps_shared.paging import MAX_EMPTY_PAGES

from tests.aws.test_carbon_emissions_export import STREAM, export_config, run_export
from tests.badinput import one_line_error
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_export import write_export
from tests.fakes.aws_s3_denied import DeniedS3
from tests.fakes.aws_s3_listing import LoopingS3


@pytest.fixture
def export(tmp_path):
    root = tmp_path / "export"
    files = write_export(root, synthetic_rows(date(2025, 7, 1), 3, seed=5), manifests=False)
    return root, files


def files_done(run) -> set[str]:
    state = run.final_state or {}
    return set(state.get("bookmarks", {}).get(STREAM, {}).get("files", {}))


def test_a_truncated_gzip_names_the_file_and_is_not_bookmarked(fake, tap_runner, tmp_path, export):
    root, files = export
    bad = files[-1]
    bad.write_bytes(bad.read_bytes()[:-30])
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    one_line_error(run, str(bad), "truncated or corrupt gzip", "re-deliver")
    assert bad.relative_to(root).as_posix() not in files_done(run)


def test_a_missing_required_column_names_it(fake, tap_runner, tmp_path, export):
    root, files = export
    lines = gzip.decompress(files[0].read_bytes()).decode().splitlines()
    header = lines[0].split(",")
    drop = header.index("region_code")
    rewritten = [",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines]
    files[0].write_bytes(gzip.compress(("\n".join(rewritten) + "\n").encode()))
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    one_line_error(run, str(files[0]), "missing required column", "region_code")
    assert files_done(run) == set()  # the first file failed: nothing may be bookmarked


def test_text_in_a_numeric_column_names_the_row(fake, tap_runner, tmp_path, export):
    root, files = export
    text = gzip.decompress(files[1].read_bytes()).decode().splitlines()
    header = text[0].split(",")
    column = header.index("total_mbm_emissions_value")
    cells = text[3].split(",")
    cells[column] = "n/a"
    text[3] = ",".join(cells)
    files[1].write_bytes(gzip.compress(("\n".join(text) + "\n").encode()))
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    one_line_error(run, str(files[1]), "row 3", "total_mbm_emissions_value", "not a number")
    done = files_done(run)
    assert files[0].relative_to(root).as_posix() in done
    assert files[1].relative_to(root).as_posix() not in done


def test_an_empty_file_is_reported(fake, tap_runner, tmp_path, export):
    root, files = export
    files[0].write_bytes(gzip.compress(b""))
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    one_line_error(run, str(files[0]), "empty")


def test_a_file_outside_any_partition_folder_is_reported(fake, tap_runner, tmp_path, export):
    root, files = export
    stray = root / "data" / "usage_period=2025-07" / "carbon-00001.csv.gz"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(files[0].read_bytes())
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    one_line_error(run, str(stray), "model_version=", "usage_period=YYYY-MM")
    assert run.records(STREAM) == []


def test_a_manifest_naming_a_missing_file_is_reported(fake, tap_runner, tmp_path):
    root = tmp_path / "export"
    files = write_export(root, synthetic_rows(date(2025, 7, 1), 1, seed=5))
    files[0].unlink()
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    one_line_error(run, "Manifest.json", "incomplete")


def test_s3_access_denied_names_the_s3_action(fake, tap_runner, tmp_path):
    with DeniedS3() as s3:
        config = export_config(
            fake, "s3://carbon-bucket/exports/carbon", s3_endpoint_url=s3.url, max_attempts=2
        )
        run = run_export(tmp_path, tap_runner, config)
        one_line_error(run, "s3:ListBucket", "arn:aws:s3:::carbon-bucket")
        assert len([r for r in s3.requests if r.method == "GET"]) == 1  # never retried


def test_a_missing_local_folder_says_what_to_point_at(fake, tap_runner, tmp_path):
    run = tap_runner("tap-aws-carbon", export_config(fake, str(tmp_path / "nowhere")))
    one_line_error(run, "carbon_export_uri", "not a folder")


@pytest.mark.parametrize(
    ("paging", "needle", "most_requests"),
    [("cycle", "already sent", 3), ("endless_empty", "empty pages in a row", MAX_EMPTY_PAGES + 2)],
)
def test_an_s3_listing_that_loops_ends_in_one_line(
    fake, tap_runner, tmp_path, paging, needle, most_requests
):
    """S3 continuation tokens A -> B -> A, or empty pages each with a fresh token, followed by
    boto3's paginator over HTTP: botocore catches only a token repeated twice in a row."""
    with LoopingS3(paging) as s3:
        config = export_config(fake, "s3://carbon-bucket/exports/carbon", s3_endpoint_url=s3.url)
        run = run_export(tmp_path, tap_runner, config)
        one_line_error(run, needle, "carbon_export_uri")
        listings = [r for r in s3.requests if "list-type=2" in r.query]
        assert 2 <= len(listings) <= most_requests
        assert not files_done(run)


def test_a_refused_assume_role_on_s3_asks_for_sts_assume_role(fake, tap_runner, tmp_path):
    """Botocore assumes role_arn inside the first S3 call: the line names the refused AssumeRole,
    not s3:ListBucket, which would not help."""
    fake.faults.deny_assume_role = True
    with DeniedS3() as s3:
        config = export_config(
            fake,
            "s3://carbon-bucket/exports/carbon",
            s3_endpoint_url=s3.url,
            role_arn="arn:aws:iam::123456789012:role/carbon-reader",
            sts_endpoint_url=fake.url,
        )
        run = run_export(tmp_path, tap_runner, config)
        one_line_error(run, "STS AssumeRole", "grant it sts:AssumeRole", "trust policy")
        assert "s3:ListBucket" not in run.stderr
        assert s3.requests == []

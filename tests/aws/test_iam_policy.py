"""The shipped IAM policies allow every AWS operation tap-aws-carbon's code can call, and no more.

`aws-iam-policy.json` is the base grant; `aws-iam-policy-athena.json` is added for cur_engine
athena and holds exactly what the Athena engine's modules need (Athena runs the query with the
caller's permissions, so that includes Glue and S3 actions the tap never calls itself).
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import botocore.session
import tap_aws_carbon

from tests.conftest import ROOT

# The clients the tap builds (STS only to assume role_arn).
SERVICES = ("sustainability", "s3", "athena", "glue")
PACKAGE = Path(tap_aws_carbon.__file__).parent
ATHENA_MODULES = ("athena_client.py", "cur_athena.py")
BASE = "policies/aws-iam-policy.json"
ATHENA = "policies/aws-iam-policy-athena.json"


def called_operations(paths: list[Path] | None = None) -> set[tuple[str, str]]:
    """(service, Operation) for every client method or paginator named in the tap's source."""
    session = botocore.session.get_session()
    by_method: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            method = botocore.xform_name(operation)
            by_method.setdefault(method, []).append((service, operation))
    found: set[tuple[str, str]] = set()
    for path in paths if paths is not None else PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in by_method:
                found.update(by_method[node.attr])
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(by_method.get(node.value, []))
    return found


def required_actions(paths: list[Path] | None = None) -> set[str]:
    """IAM actions the operations need: mapped rows (all of an operation's), else the default."""
    lines = (ROOT / "policies/aws-action-map.csv").read_text().splitlines()
    mapped: dict[tuple[str, str], set[str]] = {}
    for r in csv.DictReader(line for line in lines if not line.startswith("#")):
        mapped.setdefault((r["service"], r["operation"]), set()).add(r["action"])
    needed: set[str] = set()
    for op in called_operations(paths):
        needed |= mapped.get(op, {f"{op[0]}:{op[1]}"})
    return needed


def allowed_actions(*files: str) -> set[str]:
    """Actions the policy files allow (default: both)."""
    actions: set[str] = set()
    for name in files or (BASE, ATHENA):
        for statement in json.loads((ROOT / name).read_text())["Statement"]:
            assert statement["Effect"] == "Allow"
            granted = statement["Action"]
            actions.update([granted] if isinstance(granted, str) else granted)
    return actions


def test_the_tap_calls_the_operations_it_is_known_to_need():
    needed = required_actions()
    assert {"sustainability:GetEstimatedCarbonEmissions", "s3:GetObject", "s3:ListBucket"} <= needed
    assert {"athena:StartQueryExecution", "athena:StopQueryExecution", "glue:GetTable"} <= needed


def test_every_action_the_tap_needs_is_in_the_policy_file():
    missing = required_actions() - allowed_actions()
    assert not missing, f"add to policies/aws-iam-policy.json: {sorted(missing)}"


def test_the_policy_grants_nothing_the_tap_does_not_use():
    extra = allowed_actions() - required_actions()
    assert not extra, f"least privilege: remove {sorted(extra)}"


def test_no_wildcard_actions():
    assert not [a for a in allowed_actions() if "*" in a]


def test_the_athena_policy_holds_exactly_what_the_athena_engine_needs():
    athena = required_actions([PACKAGE / name for name in ATHENA_MODULES])
    assert "s3:PutObject" in athena  # the result location, written by Athena as the caller
    assert allowed_actions(ATHENA) == athena


def test_the_base_policy_grants_no_athena_or_glue_action():
    assert not {a for a in allowed_actions(BASE) if a.startswith(("athena:", "glue:"))}

"""The shipped IAM policy allows every AWS operation tap-aws-carbon's code can call."""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import botocore.session
import tap_aws_carbon

from tests.conftest import ROOT

SERVICES = ("sustainability", "s3")  # the clients the tap builds (STS only to assume role_arn)


def called_operations() -> set[tuple[str, str]]:
    """(service, Operation) for every client method or paginator named in the tap's source."""
    session = botocore.session.get_session()
    by_method: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            method = botocore.xform_name(operation)
            by_method.setdefault(method, []).append((service, operation))
    found: set[tuple[str, str]] = set()
    for path in Path(tap_aws_carbon.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in by_method:
                found.update(by_method[node.attr])
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(by_method.get(node.value, []))
    return found


def required_actions() -> set[str]:
    lines = (ROOT / "policies/aws-action-map.csv").read_text().splitlines()
    mapped = {
        (r["service"], r["operation"]): r["action"]
        for r in csv.DictReader(line for line in lines if not line.startswith("#"))
    }
    return {mapped.get(op, f"{op[0]}:{op[1]}") for op in called_operations()}


def allowed_actions() -> set[str]:
    policy = json.loads((ROOT / "policies/aws-iam-policy.json").read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        granted = statement["Action"]
        actions.update([granted] if isinstance(granted, str) else granted)
    return actions


def test_the_tap_calls_the_operations_it_is_known_to_need():
    needed = required_actions()
    assert {"sustainability:GetEstimatedCarbonEmissions", "s3:GetObject", "s3:ListBucket"} <= needed


def test_every_action_the_tap_needs_is_in_the_policy_file():
    missing = required_actions() - allowed_actions()
    assert not missing, f"add to policies/aws-iam-policy.json: {sorted(missing)}"


def test_the_policy_grants_nothing_the_tap_does_not_use():
    extra = allowed_actions() - required_actions()
    assert not extra, f"least privilege: remove {sorted(extra)}"


def test_no_wildcard_actions():
    assert not [a for a in allowed_actions() if "*" in a]

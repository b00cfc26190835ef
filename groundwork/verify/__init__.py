"""Node verification: the testinfra checks of tests/infra, run in parallel
over SSH against a stack's nodes, reported per node with declared-vs-live
values (the drift report)."""

from groundwork.verify.report import CheckResult, VerifyReport, parse_junit
from groundwork.verify.run import verify

__all__ = ["CheckResult", "VerifyReport", "parse_junit", "verify"]

"""The declarative cluster model, its validation and the stack file loader."""

from groundwork.spec.load import (
    StackFileError,
    StackFileMissing,
    load_stack,
    load_stack_file,
    parse_cluster,
    stack_path,
)
from groundwork.spec.model import ClusterSpec, LabSpec, Node, Role
from groundwork.spec.problems import Problem, SpecError
from groundwork.spec.rules import warnings

__all__ = [
    "ClusterSpec",
    "LabSpec",
    "Node",
    "Problem",
    "Role",
    "SpecError",
    "StackFileError",
    "StackFileMissing",
    "load_stack",
    "load_stack_file",
    "parse_cluster",
    "stack_path",
    "warnings",
]

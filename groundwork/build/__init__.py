"""Upstream components built from their pinned Go modules (components/*)."""

from groundwork.build.recipes import (
    BY_COMPONENT,
    DEFAULT_RECIPES,
    KUBERNETES_RECIPES,
    LAB_RECIPES,
    PULUMI_RECIPES,
    RECIPES,
    Program,
    Recipe,
    RecipeError,
    kubernetes_versions,
    lab_recipes,
)
from groundwork.build.run import BuildError, Built, build, build_all

__all__ = [
    "BY_COMPONENT",
    "DEFAULT_RECIPES",
    "KUBERNETES_RECIPES",
    "LAB_RECIPES",
    "PULUMI_RECIPES",
    "RECIPES",
    "BuildError",
    "Built",
    "Program",
    "Recipe",
    "RecipeError",
    "build",
    "build_all",
    "kubernetes_versions",
    "lab_recipes",
]

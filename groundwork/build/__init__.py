"""Upstream components built from their pinned Go modules (components/*)."""

from groundwork.build.recipes import (
    BY_COMPONENT,
    LAB_RECIPES,
    RECIPES,
    Program,
    Recipe,
    RecipeError,
)
from groundwork.build.run import BuildError, Built, build, build_all

__all__ = [
    "BY_COMPONENT",
    "LAB_RECIPES",
    "RECIPES",
    "BuildError",
    "Built",
    "Program",
    "Recipe",
    "RecipeError",
    "build",
    "build_all",
]

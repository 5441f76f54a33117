"""Distillation methods, one module each, registered by name (see methods.base.Method)."""

from .base import METHODS, Method, MethodConfig, build_method, load_plugin, register_method

__all__ = ["METHODS", "Method", "MethodConfig", "build_method", "load_plugin", "register_method"]


def _register_builtin() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name not in {"base", "hooks"} and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_register_builtin()

"""Names a package exports without importing their module until first use (PEP 562).

`results` and `stats` export their jsonschema and scipy modules this way, so a command that
only names metrics (`benchaction validate`, `--help`) starts without them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, modules: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `package.<modules[name]>` on first use of `name`
    and keeps the value in `namespace`, so later uses are plain attribute reads."""

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{modules[name]}"), name)
        namespace[name] = value
        return value

    return __getattr__

"""Metadata (``DataFrame.attrs``) carried from a caller's frame to a new one."""

from __future__ import annotations

import copy
from collections.abc import Collection, Hashable, Mapping
from typing import Any


def own_attrs(attrs: Mapping[Hashable | None, Any], *, drop: Collection[str] = (),
              share: Collection[str] = ()) -> dict[Hashable | None, Any]:
    """A copy of ``attrs`` for a new frame: deep, as pandas copies attrs only one level down,
    so that editing the result's metadata never edits the caller's. Keys in ``drop`` are left
    out; those in ``share`` keep the same object (a table the library never edits)."""
    return {k: v if k in share else copy.deepcopy(v)
            for k, v in attrs.items() if k not in drop}

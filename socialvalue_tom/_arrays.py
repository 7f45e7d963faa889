"""Read-only arrays that stay read-only."""

from __future__ import annotations

import numpy as np


def sealed(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a read-only array over an immutable copy of its bytes.

    ``setflags(write=False)`` alone can be undone (``setflags(write=True)`` succeeds on an
    array that owns its memory): a table shared by every thread could then be edited in place,
    changing every later valuation while its digest, which the audit trail records, stayed the
    same. numpy refuses to make an array over ``bytes`` writeable.
    """
    data = np.ascontiguousarray(arr).tobytes()
    return np.frombuffer(data, dtype=arr.dtype).reshape(arr.shape)

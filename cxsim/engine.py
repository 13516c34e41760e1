"""Which implementation of the rules a model runs: numba kernels or their numpy twins.

Both engines have the same functions with the same arguments (tested), so the model calls
``engine.service(...)`` without knowing which. ``load("reference")`` never imports numba.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: kernels with a parallel (prange) build and a ``_serial`` one
PARALLEL_KERNELS = ("culture", "practice", "engagement_step", "service", "perception",
                    "customer_pass_a", "customer_hear", "customer_pass_b")


@dataclass(frozen=True)
class Engine:
    name: str
    parallel: bool
    culture: Any
    practice: Any
    engagement_step: Any
    select_contacts: Any
    assign_contacts: Any
    service: Any
    perception: Any
    customer_pass_a: Any
    customer_hear: Any
    customer_pass_b: Any
    staff: Any
    learning: Any


#: the functions an engine provides; each kernel has its twin of the same name
KERNELS = tuple(f.name for f in fields(Engine) if f.name not in ("name", "parallel"))


def load(name: str, parallel: bool = False) -> Engine:
    """The engine `name` ("numba" or "reference"); `parallel` picks the prange builds."""
    if name == "reference":
        from . import reference as impl
        parallel = False
        suffix = ""
    elif name == "numba":
        from . import kernels as impl
        suffix = "" if parallel else "_serial"
    else:
        raise ValueError(f"engine = {name!r}; allowed: numba, reference")
    fns = {k: getattr(impl, k + (suffix if k in PARALLEL_KERNELS else "")) for k in KERNELS}
    return Engine(name=name, parallel=parallel, **fns)

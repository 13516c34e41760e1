"""Levers for part of the organisation: a channel, a department or a unit.

Levers that act through colleagues (`scenario.SCOPABLE_LEVERS`: pressure, empowerment,
training, ...) are held per colleague. The company-wide lever sets every colleague's value;
scoped settings (`[[scoped_levers]]` in a scenario, a `set` event with a `scope`, or
`CXModel.set_levers(..., scope=...)`) then override it for their colleagues, later ones
winning where scopes overlap. A scoped setting stays until another scoped setting of the same
lever and scope replaces it. Who a scope covers is worked out afresh each week: a channel's
front line changes when staff are redeployed (a digital launch).

>>> import numpy as np
>>> from types import SimpleNamespace
>>> from cxsim.scenario import Levers
>>> org = SimpleNamespace(channel=np.array([0, 1, -1]), department=np.zeros(3, int),
...                       department_names=["store"], team=np.zeros(3, int), n=3)
>>> colleague_levers(Levers(empowerment=0.4), [("channel:store", {"empowerment": 0.9})],
...                  org)["empowerment"]
array([0.9, 0.4, 0.4])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .constants import CHANNELS
from .scenario import SCOPABLE_LEVERS, Levers, ScenarioError

#: one scoped setting: the scope as written and the levers it sets
Scoped = tuple[str, dict[str, float]]


def scope_mask(scope: str, org: Any, where: str = "scope") -> np.ndarray:
    """The colleagues a scope covers, (c,) bool.

    ``channel:NAME`` is the front line serving that channel now; ``department:NAME`` the
    colleagues of the department; ``unit:LABEL`` those of the unit (its label in the
    organisation file, or its number in a generated organisation). A name the organisation
    does not have raises ScenarioError (one line, with what is allowed).
    """
    kind, _, name = scope.partition(":")
    if kind == "channel" and name in CHANNELS:
        return org.channel == CHANNELS.index(name)
    if kind == "department" and name in org.department_names:
        return org.department == org.department_names.index(name)
    labels = unit_labels(org)
    if kind == "unit" and name in labels:
        return org.team == labels.index(name)
    allowed = {"channel": [f"channel:{c}" for c in CHANNELS],
               "department": [f"department:{d}" for d in org.department_names],
               "unit": [f"unit:{u}" for u in labels]}.get(kind)
    if allowed is None:
        raise ScenarioError(f"{where} = {scope!r}; allowed: channel:NAME, department:NAME or "
                            "unit:LABEL")
    shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
    raise ScenarioError(f"{where} = {scope!r} is not in this organisation; allowed: {shown}")


def unit_labels(org: Any) -> list[str]:
    """Each unit's label: the organisation file's, or its number."""
    if getattr(org, "team_names", None):
        return [str(t) for t in org.team_names]
    return [str(t) for t in range(org.n_teams)]


def colleague_levers(levers: Levers, scoped: list[Scoped], org: Any) -> dict[str, np.ndarray]:
    """Each scopable lever as a (c,) array: the company-wide value, then the scoped settings in
    order, each over the colleagues its scope covers now."""
    out = {name: np.full(org.n, float(getattr(levers, name))) for name in SCOPABLE_LEVERS}
    for scope, changes in scoped:
        mask = scope_mask(scope, org)
        for key, value in changes.items():
            out[key.removeprefix("levers.")][mask] = float(value)
    return out

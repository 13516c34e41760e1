"""Pay as incentives: what staff do at a contact when part of their pay is on sales.

A colleague with sales incentive ``s`` pushes a product at a contact with chance
``push_rate x s``. A pushed product fits the customer with chance ``fit_share``, rising to
certainty as pay is tied to customer outcomes (``pay_alignment``: staff then push only what
fits). A sale brings revenue now; a product that does not fit costs the customer's trust when
they find out, at their next contact (`kernels.perception`), and so churn later. Both engines
run this numpy rule (a few vector operations over the week's contacts).

>>> import numpy as np
>>> from cxsim.scenario import Selling
>>> sold = sales(np.array([0, 1]), np.array([1.0, 0.0]), np.array([0.0, 0.0]),
...              np.array([0.1, 0.1]), np.array([0.9, 0.9]), Selling(push_rate=0.3))
>>> sold.tolist()  # colleague 0 (all pay on sales) pushes what does not fit; 1 never pushes
[2, 0]
"""

from __future__ import annotations

import numpy as np

from .constants import FIT, MISFIT, NO_SALE
from .scenario import Selling


def sales(colleague: np.ndarray, sales_incentive: np.ndarray, pay_alignment: np.ndarray,
          u_push: np.ndarray, u_fit: np.ndarray, s: Selling) -> np.ndarray:
    """What was sold at each contact, (m,) int8: NO_SALE, FIT or MISFIT.

    Parameters
    ----------
    colleague : (m,) int
        Who served each contact.
    sales_incentive, pay_alignment : (c,) float
        Each colleague's share of pay on sales and on customer outcomes.
    u_push, u_fit : (m,) float
        Uniform draws: whether a product is pushed, whether it fits.
    s : Selling
        The scenario's `selling` section.
    """
    pushed = u_push < s.push_rate * sales_incentive[colleague]
    fit_chance = s.fit_share + (1.0 - s.fit_share) * pay_alignment[colleague]
    fits = u_fit < fit_chance
    return np.where(pushed, np.where(fits, FIT, MISFIT), NO_SALE).astype(np.int8)

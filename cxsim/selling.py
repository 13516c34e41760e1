"""Pay as incentives: what staff do at a contact when part of their pay is on sales.

A colleague with sales incentive ``s`` offers a product at a contact with chance
``push_rate x s``; the customer takes it with chance `acceptance`. A product offered fits the
customer with chance `fit_share`. Staff whose pay is tied to customer outcomes
(``pay_alignment``) hold back an offer that does not fit with that chance, so outcome pay
removes mis-selling, and the sales with it, rather than turning bad sales into good ones. A
sale brings revenue now (less a commission, `metrics.weekly_cost`); a product that does not
fit costs the customer's trust when they find out, at their next contact
(`kernels.perception`), and so churn later. Both engines run this numpy rule (a few vector
operations over the week's contacts).

>>> import numpy as np
>>> from cxsim.scenario import Selling
>>> u = np.array([[0.1, 0.1], [0.9, 0.9], [0.1, 0.1]])  # push, fit, accept
>>> sales(np.array([0, 1]), np.array([1.0, 0.0]), np.array([0.0, 0.0]), *u,
...       Selling(push_rate=0.3, acceptance=0.5)).tolist()
[2, 0]
>>> sales(np.array([0]), np.array([1.0]), np.array([1.0]), *u[:, :1],
...       Selling(push_rate=0.3, acceptance=0.5)).tolist()  # aligned: no misfit offered
[0]
"""

from __future__ import annotations

import numpy as np

from .constants import FIT, MISFIT, NO_SALE
from .scenario import Selling


def sales(colleague: np.ndarray, sales_incentive: np.ndarray, pay_alignment: np.ndarray,
          u_push: np.ndarray, u_fit: np.ndarray, u_accept: np.ndarray, s: Selling) -> np.ndarray:
    """What was sold at each contact, (m,) int8: NO_SALE, FIT or MISFIT.

    Parameters
    ----------
    colleague : (m,) int
        Who served each contact.
    sales_incentive, pay_alignment : (c,) float
        Each colleague's share of pay on sales and on customer outcomes.
    u_push, u_fit, u_accept : (m,) float
        Uniform draws: whether a product is offered, whether it fits, whether it is taken.
        Given a misfit (``u_fit >= fit_share``), ``(u_fit - fit_share) / (1 - fit_share)`` is
        uniform again and decides whether outcome pay holds the offer back.
    s : Selling
        The scenario's `selling` section.
    """
    offered = u_push < s.push_rate * sales_incentive[colleague]
    fits = u_fit < s.fit_share
    held_back = ~fits & ((u_fit - s.fit_share) / max(1.0 - s.fit_share, 1e-12)
                         < pay_alignment[colleague])
    sold = offered & ~held_back & (u_accept < s.acceptance)
    return np.where(sold, np.where(fits, FIT, MISFIT), NO_SALE).astype(np.int8)

"""Unit managers who watch their unit's measured scores (the knee-jerk story).

Each week every unit's manager compares the unit's measured NPS (the pooled survey, noise
included) with the company's. A unit that lags is chased: its control rises toward
``score_chasing x shortfall / chase_scale`` (at most 1) at `reaction_rate` a week, and falls
back as the gap closes. Control tightens targets, scripts and monitoring: it adds to the
productivity pressure the unit's colleagues are asked to work under (which by habit removes
headroom and engagement, `kernels.engagement_step`), and the chased staff ask customers for
the score, each with chance equal to the control (`measurement.score_begging`), which lifts the
measured answers of those asked and not what anyone feels.
Managers only ever see measured figures. Both engines run this numpy rule (a few operations
per unit).

>>> import numpy as np
>>> from cxsim.scenario import Management
>>> unit = UnitManagement(Management(chase_scale=20.0, reaction_rate=0.5), n_units=2)
>>> unit.review(company_nps=20.0, unit_nps=np.array([20.0, 0.0]), chasing=np.array([0.8, 0.8]))
>>> unit.control
array([0. , 0.4])
"""

from __future__ import annotations

import numpy as np

from .scenario import Management


class UnitManagement:
    """The control each unit's manager exerts, 0..1 per unit.

    Parameters
    ----------
    m : Management
        The scenario's `management` section.
    n_units : int
        Units (teams) of the organisation.
    """

    def __init__(self, m: Management, n_units: int):
        self.m = m
        self.control = np.zeros(n_units)

    def review(self, company_nps: float, unit_nps: np.ndarray, chasing: np.ndarray) -> None:
        """One week's review: units whose measured NPS lags the company's are chased.

        Parameters
        ----------
        company_nps : float
            The company's measured NPS (nan: no answers, nobody is chased).
        unit_nps : (units,) float
            Each unit's measured NPS (nan where nobody answered: no data, no chase).
        chasing : (units,) float
            How hard each unit's manager chases scores (`levers.score_chasing`), 0..1.
        """
        with np.errstate(invalid="ignore"):
            lag = np.clip((company_nps - unit_nps) / self.m.chase_scale, 0.0, 1.0)
        wanted = chasing * np.nan_to_num(lag, nan=0.0)
        self.control += self.m.reaction_rate * (wanted - self.control)

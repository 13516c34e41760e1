"""Codes and fixed definitions shared by the kernels, their twins, the model and the outputs.

Numba-free on purpose: ``engine="reference"``, the scenario schema and the outputs import it
without compiling anything. These are definitions (what a status code or a promoter *is*), not
behaviour; every behavioural number is a scenario field (see `cxsim.scenario`).
"""

from __future__ import annotations

#: status of a customer node in the social network
PROSPECT, ACTIVE, CHURNED = 0, 1, 2
STATUS_NAMES = ("prospect", "active", "churned")

#: Net Promoter definitions on the 0-10 likelihood-to-recommend scale: 9-10 promoter, 0-6
#: detractor (Reichheld 2003)
PROMOTER_MIN, DETRACTOR_MAX = 9.0, 7.0

#: service channels, in the order of every per-channel array
CHANNELS = ("store", "contact_centre", "digital")
STORE, CONTACT_CENTRE, DIGITAL = range(3)

#: roles in the organisation, in the order of their codes
ROLES = ("leader", "manager", "frontline", "backoffice")
LEADER, MANAGER, FRONTLINE, BACKOFFICE = range(4)

#: kinds of tie between colleagues: in one team, across teams of one department, across
#: departments (silos weaken the last two)
WITHIN_TEAM, CROSS_TEAM, CROSS_DEPARTMENT = range(3)

#: Aaker's (1997) brand personality dimensions, in the order of every personality vector
DIMENSIONS = ("sincerity", "excitement", "competence", "sophistication", "ruggedness")

#: neutral point of the 0..1 scales that enter a rule as a deviation (trust, empathy, the
#: satisfaction a colleague sees mirrored): a value here adds nothing
NEUTRAL = 0.5

#: middle of the 0-10 likelihood-to-recommend scale: where a neutral customer's score starts,
#: and the value shown for prospects, who have nothing to rate (never counted in NPS)
LTR_MID = 5.0

#: float sums over the customers are taken in this many fixed chunks added in order, so they do
#: not depend on the number of threads
TOTAL_CHUNKS = 64

#: slots of the customer figures (see `kernels.customer_pass_b`): counts ...
(T_ACTIVE, T_PROSPECTS, T_CHURNED, T_PROMOTERS, T_DETRACTORS, T_SEEN) = range(6)
#: ... and sums
(S_SPREAD, S_TRUST, S_EMPATHY, S_EXPECTATION, S_HEARD_POS, S_HEARD_NEG, S_REVENUE) = range(7)
#: rows of the per-unit customer counts
(U_CUSTOMERS, U_PROMOTERS, U_DETRACTORS) = range(3)
#: rows of the per-unit brand-image sums: distance from the intended brand, squared length,
#: then the 5 dimensions (from I_X)
(I_DISTANCE, I_SQUARED, I_X) = range(3)
#: what was sold at a contact (`cxsim.selling`)
NO_SALE, FIT, MISFIT = 0, 1, 2

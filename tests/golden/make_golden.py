"""Write the golden outputs of the run contract: timeseries and units of a few small runs.

The golden files pin the numbers that a pure restructuring must not change. Regenerate them
(and say why in the commit) only when a change to the model's rules is meant to change them:

    .venv/bin/python tests/golden/make_golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from cxsim.model import CXModel

HERE = Path(__file__).parent
SIZE = {"size.customers": 1500, "size.prospects": 1000, "burn_in": 8, "steps": 30}
# (name, scenario, seed, extra overrides): the events, the digital channel, hiring for fit,
# crisis responses and silos all run through the step
CASES = (
    ("baseline", "baseline", 11, {}),
    ("culture_first", "culture_first", 12, {}),
    ("digital_bolt_on", "digital_bolt_on", 13, {}),
    ("crisis_knee_jerk", "crisis_knee_jerk", 14, {}),
    ("crisis_complaints_first", "crisis_complaints_first", 15, {}),
    ("hire_like_customers", "hire_like_customers", 16, {}),
    ("silos", "silos", 17, {}),
    ("events", str(HERE / "golden_events.toml"), 18, {}),
)


def run_case(scenario: str, seed: int, extra: dict, engine: str = "numba",
             parallel: bool = False) -> CXModel:
    """One golden run, headless (no agent views: the numbers do not depend on them)."""
    m = CXModel(scenario, seed=seed, engine=engine, parallel=parallel, create_agents=False,
                overrides={**SIZE, **extra})
    m.run()
    return m


def main(out: Path = HERE) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, scenario, seed, extra in CASES:
        m = run_case(scenario, seed, extra)
        m.timeseries().to_csv(out / f"{name}.timeseries.csv", index=False, float_format="%.17g")
        m.units().to_csv(out / f"{name}.units.csv", index=False, float_format="%.17g")
        print(name, "written")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)

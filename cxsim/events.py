"""The scenario's timeline: lever changes, service failures and armed crisis responses.

One place decides which failure is in force at a step (`Timeline.active_shock`) and which
events fire (`Timeline.fire`); the model applies what fires to its levers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .scenario import ComplaintsFirst, Event, KpiDashboard, ServiceFailure, SetEvent

Response = KpiDashboard | ComplaintsFirst


def response_levers(ev: Response) -> dict[str, float]:
    """The levers a crisis response sets: the knee-jerk KPI dashboard sets managers chasing
    their units' measured scores (and changes company-wide levers only where it names them);
    complaints-first turns to complaints, co-creation and empowerment."""
    if isinstance(ev, KpiDashboard):
        also = {k: getattr(ev, k) for k in ("productivity_pressure", "empowerment",
                                            "cx_metrics_weight") if getattr(ev, k) is not None}
        return {"score_chasing": ev.score_chasing, **also}
    return {"complaints_first": ev.complaints_first, "co_creation": ev.co_creation,
            "empowerment": ev.empowerment}


def response_name(ev: Response) -> str:
    return ("knee-jerk KPI dashboard" if isinstance(ev, KpiDashboard)
            else "complaints-first response")


class Timeline:
    """The events of a scenario and those injected live (the dashboard's failure button).

    Attributes
    ----------
    log : list of (step, text)
        What happened when, for charts and captions.
    """

    def __init__(self, events: Iterable[Event]):
        self.events = list(events)
        self.injected: list[ServiceFailure] = []
        self.responded: set[int] = set()  # crisis responses that have fired
        self.log: list[tuple[int, str]] = []

    def active_shock(self, t: int) -> ServiceFailure | None:
        """The most severe service failure in force at step `t` (the first of equals)."""
        shock = None
        for ev in self.events + self.injected:
            if (isinstance(ev, ServiceFailure) and ev.step <= t < ev.step + ev.duration
                    and (shock is None or ev.severity > shock.severity)):
                shock = ev
        return shock

    def fire(self, t: int, nps: float, set_levers: Callable[..., None],
             respond: Callable[[Response], None],
             nps_before: Callable[[int], float] = lambda step: float("nan")) -> None:
        """Apply the events due at step `t`: lever changes, and armed crisis responses once the
        measured NPS (`nps`, last step's) is below their threshold, or has fallen `nps_drop`
        points below `nps_before(step)`, its level before they were armed. Logs the start of
        failures."""
        for i, ev in enumerate(self.events):
            if isinstance(ev, SetEvent) and ev.step == t:
                set_levers(ev.set, ev.scope)
                where = f" for {ev.scope}" if ev.scope else ""
                self.log.append((t, f"set {ev.set}{where}"))
            elif isinstance(ev, ServiceFailure) and ev.step == t:
                self.log.append((t, "service failure"))
            elif (isinstance(ev, KpiDashboard | ComplaintsFirst) and t >= ev.step
                  and i not in self.responded and _alarmed(ev, nps, nps_before)):
                self.responded.add(i)
                respond(ev)

    def inject(self, ev: ServiceFailure) -> None:
        """A failure started live at `ev.step`."""
        self.injected.append(ev)
        self.log.append((ev.step, "service failure"))


def _alarmed(ev: Response, nps: float, nps_before: Callable[[int], float]) -> bool:
    """Whether a crisis response's trigger is met by the measured NPS."""
    if ev.nps_drop is not None:
        return nps < nps_before(ev.step) - ev.nps_drop
    return nps < ev.nps_threshold

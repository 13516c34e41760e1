"""cxsim: agent-based simulation of how a company's culture reaches its customers."""

from .scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = ["CXModel", "Scenario", "ScenarioError", "load_scenario", "__version__"]


def __getattr__(name: str):
    # the model pulls in Mesa and numba; import it only when asked for
    if name == "CXModel":
        from .model import CXModel

        return CXModel
    raise AttributeError(name)

"""cxsim: agent-based simulation of how a company's culture reaches its customers."""

from importlib.metadata import PackageNotFoundError, version

from .scenario import Scenario, ScenarioError, load_scenario

try:  # one place for the version: the package metadata (pyproject.toml)
    __version__ = version("cxsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["CXModel", "Scenario", "ScenarioError", "load_scenario", "__version__"]


def __getattr__(name: str):
    # the model pulls in Mesa and numba; import it only when asked for
    if name == "CXModel":
        from .model import CXModel

        return CXModel
    raise AttributeError(name)

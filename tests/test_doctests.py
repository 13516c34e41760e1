"""The examples in the docstrings run and show what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("cxsim.agents", "cxsim.model", "cxsim.networks", "cxsim.params", "cxsim.reference",
           "cxsim.scenario", "cxsim.experiments.compare", "cxsim.experiments.run",
           "cxsim.experiments.sweep", "cxsim.checkpoint", "cxsim.cache", "cxsim.management",
           "cxsim.selling", "cxsim.scopes", "cxsim.rng", "cxsim.targets", "cxsim.calibrate",
           "cxsim.measurement", "cxsim.validation")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0

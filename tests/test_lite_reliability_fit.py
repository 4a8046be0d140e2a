"""The lite engine's region reliabilities are what scripts/fit_lite_reliability.py fits on the real dev
set, shrunk towards the values measured on the synthetic pedestrians (docs/lite-engine.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from interreid.engine.lite.calibration import RELIABILITY

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "resources" / "devsets" / "vtest" / "annos.json"


def _script():
    spec = importlib.util.spec_from_file_location("fit_lite_reliability", ROOT / "scripts" / "fit_lite_reliability.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shrinkage_towards_the_synthetic_prior_and_leave_one_out():
    fit = _script()
    items = {"feet": [(1, 0.55), (2, 0.55), (3, 0.95)]}
    raw_all = 2 * ((0.55 + 0.55 + 0.95) / 3 - 0.5)
    got = fit.fit(items, prior={"feet": 0.5})["feet"]
    assert got == pytest.approx((3 * raw_all + fit.PRIOR * 0.5) / (3 + fit.PRIOR))
    # leaving out identity 3 (the one that makes the shoes look reliable) lowers the fit
    assert fit.fit(items, leave_out=3, prior={"feet": 0.5})["feet"] < got
    assert fit.fit(items, prior={})["feet"] == pytest.approx(raw_all)  # no prior: the raw value


def test_a_hat_hides_the_hair_colour():
    fit = _script()
    assert fit._wears_hat("She wore a white woolly hat.")
    assert not fit._wears_hat("He is not wearing a hat.") and not fit._wears_hat("He had short grey hair.")


@pytest.mark.skipif(not DEVSET.exists(), reason="the dev set is not in this checkout")
def test_stored_region_reliabilities_are_the_fit_on_the_dev_set():
    fit = _script()
    rho = fit.fit(fit.aucs(DEVSET))
    for region in ("head", "upper", "lower", "feet"):
        assert RELIABILITY[region] == pytest.approx(rho[region], abs=0.01), region

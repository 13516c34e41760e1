"""The dashboard's network map without a browser: a sensible sample, the week's contacts and
word of mouth taken from the model as they happened, a service failure visible at a glance,
deltas that carry only what changed, and the brand-image colouring (with a stand-in image
array where the model has none yet)."""

from __future__ import annotations

import numpy as np
import pytest

from cxsim.viz.network import (
    CHURNED_CODE,
    MAX_CUSTOMERS,
    PROSPECT_CODE,
    WX,
    WY,
    compute_map,
    frame_delta,
    frame_of,
    map_of,
)
from cxsim.viz.widgets import NetworkMap
from tests.conftest import small_model


@pytest.fixture(scope="module")
def stepped():
    m = small_model(seed=5, **{"size.customers": 2000, "size.prospects": 1000})
    m.step()
    return m


def test_sample_is_bounded_seeded_and_clustered(stepped):
    lay = map_of(stepped)
    assert 0 < len(lay.cus_idx) <= MAX_CUSTOMERS
    assert len(np.unique(lay.cus_idx)) == len(lay.cus_idx)
    # colleagues' own nodes are drawn as colleagues, not a second time as customers
    assert (np.asarray(stepped.customers.node_colleague)[lay.cus_idx] < 0).all()
    again = compute_map(stepped)
    assert np.array_equal(again.cus_idx, lay.cus_idx) and np.allclose(again.cus_xy, lay.cus_xy)
    assert (np.abs(lay.cus_xy[:, 0]) <= WX).all() and (np.abs(lay.cus_xy[:, 1]) <= WY).all()
    assert (np.hypot(*lay.col_xy.T) <= 1.05).all()  # colleagues in the middle
    # ties drawn are real social ties inside one cluster
    net = stepped.social
    for a, b in lay.ties[:200]:
        u, v = lay.cus_idx[a], lay.cus_idx[b]
        assert v in net.indices[net.indptr[u]:net.indptr[u + 1]]
        assert lay.cluster[a] == lay.cluster[b]
    assert len(lay.ties) > len(lay.cus_idx) // 2  # clusters are connected, not scattered


def test_frame_draws_the_weeks_contacts_and_word_of_mouth(stepped):
    lay = map_of(stepped)
    f = frame_of(stepped, lay, stepped.t)
    con, cus = stepped.contacts, stepped.customers
    sampled = lay.local[con.customer] >= 0
    expected = sampled & (lay.anchor[con.colleague] >= 0)
    assert len(f.contacts) == int(expected.sum()) > 0
    # each line joins the colleague's stand-in (itself or a drawn team mate) to the customer
    want = np.column_stack([lay.anchor[con.colleague[expected]], lay.local[con.customer[expected]],
                            np.rint(100 * con.experience[expected])]).astype(int)
    assert np.array_equal(f.contacts, want)
    team = stepped.org.team
    assert (team[lay.col_idx[f.contacts[:, 0]]] == team[con.colleague[expected]]).all()
    # word of mouth: the speaker spoke this week with that valence, to a neighbour
    assert len(f.wom) > 0
    speak = np.asarray(cus.speak)
    net = stepped.social
    for s, h, val in f.wom[:300]:
        u, v = lay.cus_idx[s], lay.cus_idx[h]
        assert speak[u] == val != 0
        assert v in net.indices[net.indptr[u]:net.indptr[u + 1]]
    # attitudes: 10 x LTR for active customers, codes for prospects and churned
    status = np.asarray(cus.status)[lay.cus_idx]
    act = status == 1
    assert np.array_equal(f.cus[act], np.rint(10 * cus.ltr[lay.cus_idx][act]).astype(np.uint8))
    assert set(np.unique(f.cus[~act])) <= {PROSPECT_CODE, CHURNED_CODE}
    # the brand-image colouring exactly when the model keeps an image per customer
    assert (f.img is None) == (getattr(cus, "image", None) is None)
    assert f.summary["contacts"] == len(f.contacts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_service_failure_turns_the_contact_lines_red(seed):
    m = small_model(seed=seed, **{"size.customers": 2000, "size.prospects": 1000})
    lay = map_of(m)
    m.step()
    calm = frame_of(m, lay, m.t)
    m.inject_service_failure(severity=0.6, duration=2, share=1.0)
    m.step()
    crisis = frame_of(m, lay, m.t)

    def bad_share(f):
        return f.summary["bad_contacts"] / max(f.summary["contacts"], 1)

    assert crisis.summary["contacts"] >= 20
    assert bad_share(crisis) > bad_share(calm) + 0.2, (bad_share(calm), bad_share(crisis))


def test_deltas_carry_only_what_changed(stepped):
    lay = map_of(stepped)
    f1 = frame_of(stepped, lay, 1)
    full = frame_delta(f1, None)
    assert full["full"] and len(full["cus"]) == 2 * len(lay.cus_idx)
    same = frame_delta(frame_of(stepped, lay, 1), f1)  # the same week again (a lever moved)
    assert same["cus"] == [] and same["col"] == [] and same["contacts"] is None
    m = stepped
    m.step()
    f2 = frame_of(m, lay, 2)
    d = frame_delta(f2, f1)
    changed = np.flatnonzero(f2.cus != f1.cus)
    assert d["cus"][0::2] == changed.tolist() and d["cus"][1::2] == f2.cus[changed].tolist()
    assert 0 < len(changed) < len(lay.cus_idx)
    assert d["contacts"] == f2.contacts.ravel().tolist()


def test_brand_image_mode_with_a_stand_in_image(stepped, monkeypatch):
    """Where the model keeps a perceived image per customer (n x 5), the map can colour by
    its distance from the intended brand; until then a stand-in array shows it works."""
    lay = map_of(stepped)
    n = len(stepped.customers.status)
    brand = np.asarray(stepped.scenario.brand.personality)
    image = np.tile(brand, (n, 1))
    far = lay.cus_idx[::2]
    image[far] = np.clip(1 - brand, 0, 1)  # the opposite personality
    monkeypatch.setattr(stepped.customers, "image", image, raising=False)
    f = frame_of(stepped, lay, stepped.t)
    assert f.img is not None and len(f.img) == len(lay.cus_idx)
    assert (f.img[1::2] == 0).all()  # on brand
    expected = min(100, np.rint(100 * np.linalg.norm(np.clip(1 - brand, 0, 1) - brand)))
    assert (f.img[::2] == expected).all() and expected > 20
    assert "image_distance" in f.summary
    w = NetworkMap(map_layout=lay.to_json(), week_frame=f)
    assert w.has_image and w.frame["img"][1::2] == f.img.tolist()


def test_widget_sends_deltas_and_everything_on_request(stepped):
    lay = map_of(stepped)
    f1 = frame_of(stepped, lay, 1)
    w = NetworkMap(map_layout=lay.to_json(), week_frame=f1)
    assert w.frame["full"] and w.frame["seq"] == 1
    assert w.has_image == (f1.img is not None)
    stepped.step()
    f2 = frame_of(stepped, lay, stepped.t)
    w.week_frame = f2
    assert not w.frame["full"] and (w.frame["seq"], w.frame["base"]) == (2, 1)
    assert len(w.frame["cus"]) < 2 * len(lay.cus_idx)
    w.vue_resend()  # a view that lost track gets everything again
    assert w.frame["full"] and w.frame["seq"] == 3 and w.frame["week"] == f2.week

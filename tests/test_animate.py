"""`cxsim animate`: frames of the asked size (1920x1080 by default), the right number of frames,
fixed axes over the whole clip, captions on screen when their week comes, A vs B side by side,
and clear errors for an unsupported extension or size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cxsim.cli import app

pytestmark = pytest.mark.slow  # the fast set (-m 'not slow') leaves these to CI

pytest.importorskip("imageio_ffmpeg")
runner = CliRunner()


def animate(out: Path, steps: int, *extra: str):
    return runner.invoke(app, ["animate", "baseline", "--out", str(out), "--steps", str(steps),
                               "--customers", "1000", *extra])


def test_gif_frames_and_size(tmp_path: Path):
    from PIL import Image

    out = tmp_path / "run.gif"
    res = animate(out, 4, "--failure-at", "1", "--fps", "4", "--size", "480x270")
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:
        assert im.n_frames == 4
        assert im.size == (480, 270)
    assert 5_000 < out.stat().st_size < 3_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["run.gif"]  # no temp file left behind


def test_default_is_1920x1080_mp4(tmp_path: Path):
    import imageio_ffmpeg

    out = tmp_path / "run.mp4"
    res = animate(out, 3, "--fps", "3")
    assert res.exit_code == 0, res.output
    assert "1920x1080" in res.output
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 3
    assert seconds == pytest.approx(1.0, abs=0.1)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert tuple(meta["size"]) == (1920, 1080)


def test_caption_appears_when_its_week_comes(tmp_path: Path):
    """A storyboard caption changes the banner area from its week on (and not before)."""
    from PIL import Image

    story = tmp_path / "story.toml"
    story.write_text('[[captions]]\nstep = 2\ntext = "Week 2: the board hires a CX lead"\n')
    out = tmp_path / "cap.gif"
    res = animate(out, 4, "--size", "960x540", "--storyboard", str(story))
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")).astype(int))
    band = slice(int(540 * 0.09), int(540 * 0.165))  # the banner's strip under the title
    yellow = [int(((f[band, :, 0] > 240) & (f[band, :, 1] > 230) & (f[band, :, 2] < 215)
                   & (f[band, :, 2] > 180)).sum()) for f in frames]
    # frame k shows week k+1; the caption of step 2 shows from week 3 (frame 2) on
    assert yellow[0] == yellow[1] == 0 and yellow[2] > 500 and yellow[3] > 500, yellow


def test_fixed_axes_over_the_clip():
    from cxsim.viz.animate import Recording, panels

    a = Recording("a", "", 2000, series={"nps": [10, 12, -70], "engagement": [0.5, 0.6, 0.4],
                                         "active_customers": [900, 950, 1000],
                                         "profit": [8000, 9000, 7000]})
    (_, _, _, nps, _), (_, _, _, eng, _), (_, _, _, act, _), (_, _, _, prof, _) = panels([a])
    assert nps == (-75, 50) and eng == (0, 100) and act == (0, 2000)
    assert prof == (0, 16000)


def test_versus_side_by_side(tmp_path: Path):
    from PIL import Image

    out = tmp_path / "ab.gif"
    res = animate(out, 2, "--size", "960x540", "--versus", "crisis_knee_jerk")
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:
        assert im.n_frames == 2 and im.size == (960, 540)


def test_unsupported_extension_or_size_exit_2(tmp_path: Path):
    out = tmp_path / "run.avi"
    res = animate(out, 2)
    assert res.exit_code == 2
    assert "allowed extensions: .gif, .mp4" in res.output
    assert not out.exists()
    res = animate(tmp_path / "run.gif", 2, "--size", "big")
    assert res.exit_code == 2 and "WIDTHxHEIGHT" in res.output

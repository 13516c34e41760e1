"""`cxsim animate`: a short GIF and MP4 with the right number of frames, and a clear error for
an unsupported extension."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxsim.cli import app

pytestmark = pytest.mark.slow  # the fast set (-m 'not slow') leaves these to CI

pytest.importorskip("imageio_ffmpeg")
runner = CliRunner()


def animate(out: Path, steps: int, *extra: str):
    return runner.invoke(app, ["animate", "baseline", "--out", str(out), "--steps", str(steps),
                               "--customers", "1000", "--dpi", "40", *extra])


def test_gif_frames_and_size(tmp_path: Path):
    from PIL import Image

    out = tmp_path / "run.gif"
    res = animate(out, 4, "--failure-at", "1", "--fps", "4")
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:
        assert im.n_frames == 4
        assert im.size == (480, 256)  # 12 x 6.4 inches at 40 dpi
    assert 5_000 < out.stat().st_size < 3_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["run.gif"]  # no temp file left behind


def test_mp4_frames(tmp_path: Path):
    import imageio_ffmpeg

    out = tmp_path / "run.mp4"
    res = animate(out, 3, "--fps", "3")
    assert res.exit_code == 0, res.output
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 3
    assert seconds == pytest.approx(1.0, abs=0.1)
    assert out.stat().st_size > 1_000


def test_unsupported_extension_exit_2(tmp_path: Path):
    out = tmp_path / "run.avi"
    res = animate(out, 2)
    assert res.exit_code == 2
    assert "allowed extensions: .gif, .mp4" in res.output
    assert not out.exists()

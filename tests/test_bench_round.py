"""The round-latency rows of ``bench speed``: a real interview on a synthetic gallery (lite engine,
a few thousand rows, so it takes seconds)."""

from __future__ import annotations

import numpy as np


def test_synthetic_gallery_round_matches_the_brute_force_reference(tmp_path):
    from interreid.engine.bench.speed_round import build_synthetic_gallery, measure_round
    from interreid.engine.gallery.store import Gallery

    folder = tmp_path / "g"
    build_synthetic_gallery(folder, 3000, "lite")
    with Gallery.open(folder) as g:
        assert len(g) == 3000 and g.vectors().shape == (3000, 46)
        assert np.allclose(np.linalg.norm(g.vectors(), axis=1), 1.0, atol=1e-5)
        assert len(set(g.shas())) == 3000
        assert g.load_image(17).size == (32, 64)  # synthetic rows read the shared thumbnail
    m = measure_round(folder, rounds=2)
    assert m["same_top200"]  # the top-K search verb agrees with brute force + full sort
    assert m["round_ms"] > 0 and m["ref_search_ms"] > 0 and m["open_ms"] > 0
    assert m["peak_rss_mb"] > m["vector_mb"] > 0


def test_cli_rejects_bad_round_sizes(capsys):
    from interreid.engine.cli.main import main

    assert main(["bench", "speed", "--quick", "--round-sizes", "lots"]) == 2
    assert "--round-sizes" in capsys.readouterr().err


def test_synthetic_gallery_at_int8_precision_is_measured_against_float32(tmp_path, capsys):
    """`gallery synthetic --vectors int8` writes the int8 file a real import would; the round's
    reference decodes it to float32 once, and the measurement reports the top 200's recall."""
    from interreid.engine.bench.speed_round import measure_round
    from interreid.engine.cli.main import main
    from interreid.engine.gallery.store import Gallery

    folder = tmp_path / "g8"
    assert main(["gallery", "synthetic", str(folder), "--rows", "2500", "--vectors", "int8"]) == 0
    assert (folder / "vectors.i8").is_file() and not (folder / "vectors.f32").exists()
    with Gallery.open(folder) as g:
        assert g.vector_format == "int8" and g.vectors().shape == (2500, 46)
        row = np.asarray(g.vectors()[5:6])[0]
        assert abs(float(np.linalg.norm(row)) - 1.0) < 0.02  # int8 codes decode to the unit vectors written
    m = measure_round(folder, rounds=1)
    assert 0.9 <= m["recall_at_200"] <= 1.0 and m["round_ms"] > 0

"""CPU embedding speed-ups of the image tower: static int8 (QDQ, calibrated on real crops) and the
saved optimised graph. Tiny random-weight model; real crops from the bundled demo video."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from fixtures_full import TINY, tiny_model, tiny_onnx, tiny_pack  # noqa: F401

from interreid.engine.cli.main import main
from interreid.engine.errors import UserError
from interreid.engine.paths import resources_dir

CPU = ["CPUExecutionProvider"]


def _held_out_crops(n: int = 16):
    """Real person crops the calibration never saw (the dev set's, not the demo gallery's)."""
    from PIL import Image

    files = sorted((resources_dir() / "devsets" / "vtest" / "images").glob("*.jpg"))[:n]
    assert len(files) == n
    out = []
    for path in files:
        with Image.open(path) as im:
            out.append(im.convert("RGB"))
    return out


def _features(path, pixels):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    out = ort.InferenceSession(str(path), options, providers=CPU).run(None, {"pixels": pixels})[0]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _pixels(images):
    from interreid.engine.full.clip_model import load_config
    from interreid.engine.full.preprocess import preprocess_batch

    return preprocess_batch(images, load_config(TINY)["preprocess"])


def test_static_int8_is_qdq_per_channel_and_close_to_fp32_on_real_crops(tiny_onnx, tmp_path):  # noqa: F811
    from interreid.engine.full.clip_model import load_config
    from interreid.engine.full.quantize import quantize_tower

    path, info = quantize_tower("static", tiny_onnx["image_onnx"], tmp_path / "static.onnx",
                                load_config(TINY)["preprocess"])
    assert info["method"] == "static-qdq" and info["calibration"]["images"] == 64
    assert len(info["calibration"]["sha256"]) == 64
    graph = onnx.load(str(path)).graph
    ops = {n.op_type for n in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ format
    inits = {i.name: i for i in graph.initializer}
    # Weights carry one scale per output channel: some DequantizeLinear has a vector scale.
    scale_sizes = [int(np.prod(inits[n.input[1]].dims)) for n in graph.node
                   if n.op_type == "DequantizeLinear" and n.input[1] in inits]
    assert max(scale_sizes) > 1
    pixels = _pixels(_held_out_crops())
    cos = np.sum(_features(tiny_onnx["image_onnx"], pixels) * _features(path, pixels), axis=1)
    assert cos.min() >= 0.995, cos.min()
    # The calibration really shapes the result: calibrated on flat grey images it is worse on crops.
    from PIL import Image

    grey = tmp_path / "grey"
    grey.mkdir()
    for i in range(4):
        Image.new("RGB", (40, 100), (120 + i, 120, 120)).save(grey / f"g{i}.png")
    bad, _ = quantize_tower("static", tiny_onnx["image_onnx"], tmp_path / "grey.onnx",
                            load_config(TINY)["preprocess"], calibration=grey)
    cos_bad = np.sum(_features(tiny_onnx["image_onnx"], pixels) * _features(bad, pixels), axis=1)
    assert cos_bad.mean() < cos.mean()


def test_calibration_folder_must_hold_images(tmp_path):
    from interreid.engine.full.quantize import calibration_files

    with pytest.raises(UserError, match="does not exist"):
        calibration_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        calibration_files(tmp_path / "empty")
    picked = calibration_files(None, limit=10)  # the demo crops, spread over the folder
    assert len(picked) == 10 and picked[0] != picked[1]


def test_pack_build_records_static_int8_and_its_cosine_on_crops(tiny_pack):  # noqa: F811
    from interreid.engine.full.pack import open_pack

    pack = open_pack(tiny_pack)
    entry = pack.manifest.component("retriever")
    assert entry["int8"]["method"] == "static-qdq"
    check = entry["int8"]["cosine_to_fp32_on_crops"]
    assert check["images"] == 16 and check["min"] >= 0.995
    emb = pack.embedder("int8")
    fp32 = pack.embedder("fp32")
    crops = _held_out_crops(6)
    cos = np.sum(emb.embed_images(crops) * fp32.embed_images(crops), axis=1)
    assert cos.min() >= 0.995


def test_cli_calibration_without_static_int8_is_refused(tmp_path, capsys):
    rc = main(["pack", "build", str(tmp_path / "p"), "--random-weights", "--config", TINY,
               "--calibration", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "--calibration goes with --int8" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_optimised_graph_is_saved_used_and_rebuilt_when_stale(tiny_onnx, tmp_path):  # noqa: F811
    from interreid.engine.full.ort_cache import cache_state, cached_path, optimised_session

    src = tmp_path / "image.onnx"
    shutil.copyfile(tiny_onnx["image_onnx"], src)
    cache = tmp_path / "cache"
    pixels = _pixels(_held_out_crops(3))
    assert cache_state(src, folder=cache) == "missing"
    session, how = optimised_session(src, CPU, folder=cache)
    assert how == "built" and cache_state(src, folder=cache) == "fresh"
    target = cached_path(src, None, cache)
    assert target.is_file() and target.with_suffix(".json").is_file()
    direct = session.run(None, {"pixels": pixels})[0]
    session, how = optimised_session(src, CPU, folder=cache)
    assert how == "cached"
    np.testing.assert_allclose(session.run(None, {"pixels": pixels})[0], direct, rtol=1e-5, atol=1e-5)

    # What runs is the saved file: swap in another valid graph (with a matching hash) and it is used.
    from interreid.engine.hashing import sha256_file

    shutil.copyfile(tiny_onnx["image_int8_onnx"], target)
    meta = json.loads(target.with_suffix(".json").read_text())
    meta.update(size=target.stat().st_size, sha256=sha256_file(target))
    target.with_suffix(".json").write_text(json.dumps(meta))
    session, how = optimised_session(src, CPU, folder=cache)
    assert how == "cached" and not np.allclose(session.run(None, {"pixels": pixels})[0], direct, atol=1e-6)

    # A damaged saved graph (hash no longer matches) is stale and rebuilt from the source.
    with open(target, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02\x03")
    assert cache_state(src, folder=cache) == "stale"
    session, how = optimised_session(src, CPU, folder=cache)
    assert how == "rebuilt" and cache_state(src, folder=cache) == "fresh"
    np.testing.assert_allclose(session.run(None, {"pixels": pixels})[0], direct, rtol=1e-5, atol=1e-5)

    # Another onnxruntime version (or CPU) made it: stale.
    meta = json.loads(target.with_suffix(".json").read_text())
    meta["key"]["onnxruntime"] = "0.0.1"
    target.with_suffix(".json").write_text(json.dumps(meta))
    assert cache_state(src, folder=cache) == "stale"
    assert optimised_session(src, CPU, folder=cache)[1] == "rebuilt"

    # The source file changes (a rebuilt pack file): the saved graph no longer stands in for it.
    shutil.copyfile(tiny_onnx["image_int8_onnx"], src)
    assert cache_state(src, folder=cache) == "stale"
    session, how = optimised_session(src, CPU, folder=cache)
    assert how == "rebuilt"
    assert not np.allclose(session.run(None, {"pixels": pixels})[0], direct, atol=1e-6)


def test_pack_embedder_uses_the_cache_keyed_by_the_manifest_hash(tiny_pack, tmp_path, monkeypatch):  # noqa: F811
    from interreid.engine.full.ort_cache import cache_state
    from interreid.engine.full.pack import open_pack

    monkeypatch.setenv("INTERREID_ORT_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("INTERREID_CPU_RUNTIME", "onnxruntime")  # where OpenVINO is installed too
    pack = open_pack(tiny_pack)
    sha = pack.file_sha256("image_int8_onnx")
    path = pack.manifest.file("retriever", "image_int8_onnx")
    assert cache_state(path, sha) == "missing"
    first = pack.embedder("int8").embed_images(_held_out_crops(2))
    assert cache_state(path, sha) == "fresh"
    np.testing.assert_allclose(pack.embedder("int8").embed_images(_held_out_crops(2)), first, rtol=1e-5, atol=1e-5)
    monkeypatch.setenv("INTERREID_ORT_CACHE", "off")
    assert cache_state(path, sha) == "off"
    assert pack.embedder("int8").embed_images(_held_out_crops(1)).shape == (1, 512)


def test_cpu_runtime_choice(monkeypatch):
    from interreid.engine.errors import ModelPackError
    from interreid.engine.full import openvino_runtime as ovr

    monkeypatch.setattr(ovr, "openvino_available", lambda: False)
    monkeypatch.delenv(ovr.ENV_RUNTIME, raising=False)
    assert not ovr.use_openvino(CPU)
    monkeypatch.setenv(ovr.ENV_RUNTIME, "openvino")
    with pytest.raises(ModelPackError, match="not installed"):
        ovr.use_openvino(CPU)
    monkeypatch.setenv(ovr.ENV_RUNTIME, "fastest")
    with pytest.raises(ModelPackError, match="auto, openvino or onnxruntime"):
        ovr.use_openvino(CPU)
    monkeypatch.setattr(ovr, "openvino_available", lambda: True)
    monkeypatch.setenv(ovr.ENV_RUNTIME, "auto")
    assert ovr.use_openvino(CPU)
    assert not ovr.use_openvino(["CUDAExecutionProvider", "CPUExecutionProvider"])  # the GPU stays onnxruntime's
    monkeypatch.setenv(ovr.ENV_RUNTIME, "onnxruntime")
    assert not ovr.use_openvino(CPU)


def test_openvino_runtime_matches_onnxruntime_when_installed(tiny_pack, tmp_path, monkeypatch):  # noqa: F811
    """Runs only where the optional openvino package is installed (it is not a dependency)."""
    pytest.importorskip("openvino")
    from interreid.engine.full.pack import open_pack

    monkeypatch.setenv("INTERREID_ORT_CACHE", str(tmp_path / "c"))
    pack = open_pack(tiny_pack)
    monkeypatch.setenv("INTERREID_CPU_RUNTIME", "onnxruntime")
    ref = pack.embedder("fp32", provider="cpu")
    monkeypatch.setenv("INTERREID_CPU_RUNTIME", "auto")
    ov = pack.embedder("fp32", provider="cpu")
    assert ov.provider.startswith("OpenVINO CPU") and ref.provider == "CPUExecutionProvider"
    assert ov.identity == ref.identity
    crops = _held_out_crops(4)
    assert np.sum(ov.embed_images(crops) * ref.embed_images(crops), axis=1).min() >= 0.995
    assert (tmp_path / "c" / "openvino").is_dir()  # OpenVINO's compiled-model cache


def test_import_with_the_int8_image_tower_keeps_it_for_the_gallery(tiny_pack, tmp_path, capsys, monkeypatch):  # noqa: F811
    """`gallery import --image-tower int8`: the gallery is measured with the pack's int8 tower (its
    identity says so), later imports keep it without being told, another tower is refused in one
    sentence, and the gallery searches like any full-engine gallery."""
    from interreid.engine.full.pack import open_pack
    from interreid.engine.gallery.store import Gallery

    monkeypatch.setenv("INTERREID_ORT_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("INTERREID_CPU_RUNTIME", "onnxruntime")
    crops = _held_out_crops(6)
    first, more = tmp_path / "crops1", tmp_path / "crops2"
    for folder, images in ((first, crops[:4]), (more, crops[4:])):
        folder.mkdir()
        for i, im in enumerate(images):
            im.save(folder / f"{folder.name}-{i}.png")
    g8, g32 = tmp_path / "g8", tmp_path / "g32"
    base = ["gallery", "import", "--engine", "full", "--pack", str(tiny_pack), "--plain"]
    assert main(base + ["--gallery", str(g8), "--image-tower", "int8", str(first)]) == 0
    assert main(base + ["--gallery", str(g32), str(first)]) == 0
    assert main(base + ["--gallery", str(g8), str(more)]) == 0  # no tower named: the gallery's own
    capsys.readouterr()
    with Gallery.open(g8) as a, Gallery.open(g32) as b:
        assert a.embedder_identity.extra["precision"] == "int8" and a.embedder_identity.version.endswith(":int8")
        assert b.embedder_identity.extra["precision"] == "fp32"
        assert len(a) == 6 and len(b) == 4
        pack = open_pack(tiny_pack)
        own = pack.embedder("int8").embed_images([crops[5]])[0]
        assert np.allclose(a.vectors()[a.row_of(_sha_of(more / "crops2-1.png"))], own / np.linalg.norm(own),
                           atol=1e-4)  # the second import used the int8 tower too
        va, vb = a.vectors()[:4], b.vectors()[:4]
        cos = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
        assert cos.min() > 0.98 and not np.allclose(va, vb)  # close to fp32's, yet its own model
    rc = main(base + ["--gallery", str(g8), "--image-tower", "fp32", str(first)])
    err = capsys.readouterr().err
    assert rc == 2 and "int8 image model" in err and "Traceback" not in err
    rc = main(["gallery", "import", "--gallery", str(tmp_path / "lite"), "--image-tower", "int8", "--plain", str(first)])
    err = capsys.readouterr().err
    assert rc == 2 and "model pack" in err and not (tmp_path / "lite" / "gallery.db").exists()
    assert main(["gallery", "info", str(g8)]) == 0
    assert "int8 image model" in capsys.readouterr().out
    assert main(["search", "--gallery", str(g8), "--pack", str(tiny_pack), "--top", "3", "a man in a dark jacket"]) == 0
    assert capsys.readouterr().out.count("crops") >= 3


def _sha_of(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ray_workers_measure_with_the_gallerys_image_tower(tiny_pack, monkeypatch):  # noqa: F811
    """A Ray import's workers open their own embedder: with the tower of the gallery's (int8 here), never
    silently the fp32 one (a gallery's vectors come from one model)."""
    from interreid.engine.gallery.ray_ingest import IngestWorker

    monkeypatch.setenv("INTERREID_CPU_RUNTIME", "onnxruntime")
    assert IngestWorker("full", str(tiny_pack), None, "int8").embedder.identity.extra["precision"] == "int8"
    assert IngestWorker("full", str(tiny_pack), None).embedder.identity.extra["precision"] == "fp32"

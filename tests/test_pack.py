"""Model packs: build -> verify -> install, refusal of damaged packs, offline, CLI, gallery lookup."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from fixtures_full import TINY, person_images, tiny_pack  # noqa: F401

from interreid.engine.embedder import EmbedderIdentity
from interreid.engine.errors import ModelPackError, UserError
from interreid.engine.full import pack as packs
from interreid.engine.hashing import sha256_file


@pytest.fixture
def pack_copy(tiny_pack, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(tiny_pack, dst)
    return dst


def test_build_verify_install_round_trip(tiny_pack):
    manifest = packs.verify_pack(tiny_pack)
    data = manifest.data
    assert data["format_version"] == 1 and data["weights"] == "random"
    assert set(data["versions"]) == {"torch", "open_clip", "onnx", "onnxruntime", "interreid"}
    retr = data["components"]["retriever"]
    for key in ("image_onnx", "image_int8_onnx", "text_onnx", "tokenizer", "config_file"):
        rel = retr[key]
        assert rel in retr["files"] and (tiny_pack / rel).is_file()
        assert retr["files"][rel]["sha256"] == sha256_file(tiny_pack / rel)
        assert retr["files"][rel]["size"] == (tiny_pack / rel).stat().st_size
    assert retr["config"]["text_cfg"]["context_length"] == 192
    assert manifest.sha256 == packs.manifest_hash(tiny_pack) == sha256_file(tiny_pack / "manifest.json")

    dest = packs.install_pack(tiny_pack)
    assert dest == packs.packs_dir() / "tiny-test-1.0"
    assert packs.verify_pack(dest).sha256 == manifest.sha256
    assert [m.name for m in packs.list_installed_packs()] == ["tiny-test"]
    assert packs.install_pack(tiny_pack) == dest  # again: a no-op
    assert packs.resolve_pack("tiny-test") == dest == packs.resolve_pack("tiny-test-1.0")
    assert not [p for p in packs.packs_dir().iterdir() if p.name.startswith(".")]

    from interreid.engine.full import load_retriever

    retriever = load_retriever("tiny-test")
    assert retriever.encode_text(["a man in red"]).shape == (1, 512)


def test_tampered_file_is_refused(pack_copy):
    path = pack_copy / "retriever" / "text.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelPackError, match=r"retriever/text\.onnx .*SHA-256"):
        packs.verify_pack(pack_copy)
    with pytest.raises(ModelPackError, match=r"retriever/text\.onnx"):
        packs.install_pack(pack_copy)
    assert list(packs.packs_dir().iterdir()) == []  # nothing half-installed


def test_missing_file_is_refused(pack_copy):
    (pack_copy / "retriever" / "image.onnx").unlink()
    with pytest.raises(ModelPackError, match=r"missing retriever/image\.onnx"):
        packs.verify_pack(pack_copy)


def test_truncated_file_is_refused(pack_copy):
    path = pack_copy / "retriever" / "image_int8.onnx"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelPackError, match=r"retriever/image_int8\.onnx .* has 100 bytes"):
        packs.verify_pack(pack_copy)


def test_unknown_manifest_version_is_refused(pack_copy):
    path = pack_copy / "manifest.json"
    data = json.loads(path.read_text())
    data["format_version"] = 2
    path.write_text(json.dumps(data))
    with pytest.raises(ModelPackError, match=r"manifest\.json has format_version 2"):
        packs.verify_pack(pack_copy)


def test_unloadable_component_is_refused(pack_copy):
    path = pack_copy / "retriever" / "image.onnx"
    path.write_bytes(b"not an onnx model")
    manifest = json.loads((pack_copy / "manifest.json").read_text())
    manifest["components"]["retriever"]["files"]["retriever/image.onnx"] = {
        "sha256": sha256_file(path), "size": path.stat().st_size}
    packs.write_manifest(pack_copy, manifest)
    with pytest.raises(ModelPackError, match=r"retriever/image\.onnx .*cannot be loaded"):
        packs.verify_pack(pack_copy)


def test_unsafe_paths_and_bad_folders_are_refused(pack_copy, tmp_path):
    manifest = json.loads((pack_copy / "manifest.json").read_text())
    manifest["components"]["retriever"]["files"]["../escape.txt"] = {"sha256": "0" * 64, "size": 1}
    (pack_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelPackError, match="unsafe"):
        packs.verify_pack(pack_copy)
    with pytest.raises(ModelPackError, match="not a model pack"):
        packs.verify_pack(tmp_path)
    with pytest.raises(ModelPackError, match="No model pack 'nope'"):
        packs.resolve_pack("nope")


def test_build_refuses_bad_requests(tmp_path, tiny_pack):
    with pytest.raises(UserError, match="exactly one source of weights"):
        packs.build_pack(tmp_path / "a", config=TINY)
    with pytest.raises(UserError, match="exactly one source of weights"):
        packs.build_pack(tmp_path / "a", clip_ckpt="x.pt", random_weights=True, config=TINY)
    with pytest.raises(UserError, match="not empty"):
        packs.build_pack(tiny_pack, random_weights=True, config=TINY)
    with pytest.raises(ModelPackError, match="does not exist"):
        packs.build_pack(tmp_path / "b", irra_ckpt=tmp_path / "missing.pth", config=TINY)
    assert not (tmp_path / "b").exists()


def test_different_pack_same_name_version_not_overwritten(pack_copy, tiny_pack):
    packs.install_pack(tiny_pack)
    manifest = json.loads((pack_copy / "manifest.json").read_text())
    manifest["licence"] = "changed"
    packs.write_manifest(pack_copy, manifest)
    with pytest.raises(ModelPackError, match="already installed"):
        packs.install_pack(pack_copy)


def test_offline_build_verify_install_load(tmp_path, monkeypatch):
    """With every socket refused, the CLI builds a pack; it verifies, installs, loads and embeds."""
    from interreid.engine.cli.main import main
    from interreid.engine.full import load_embedder, load_retriever

    def no_network(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    out = tmp_path / "offline-pack"
    assert main(["pack", "build", str(out), "--random-weights", "--config", TINY, "--name", "offline",
                 "--version", "2", "--json"]) == 0
    assert main(["pack", "verify", str(out)]) == 0
    assert main(["pack", "install", str(out)]) == 0
    emb = load_embedder("offline")
    vec = emb.embed_images(person_images(3))
    assert load_retriever("offline").score("a person", vec).shape == (3,)


def test_cli_pack_commands(tiny_pack, tmp_path, capsys):
    from interreid.engine.cli.main import main

    assert main(["pack", "verify", str(tiny_pack), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verified"] and out["name"] == "tiny-test" and out["manifest_sha256"] == packs.manifest_hash(tiny_pack)
    assert main(["pack", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["packs"] == []
    assert main(["pack", "install", str(tiny_pack), "--json"]) == 0
    capsys.readouterr()
    assert main(["pack", "list"]) == 0
    assert "tiny-test 1.0 (random weights" in capsys.readouterr().out
    assert main(["pack", "build", str(tmp_path / "x"), "--config", TINY]) == 2
    assert "exactly one source of weights" in capsys.readouterr().err
    assert main(["pack", "verify", str(tmp_path)]) == 2


class _FakeGallery:
    def __init__(self, identity):
        self.embedder_identity = identity


def test_pack_for_gallery_finds_the_installed_pack(tiny_pack, pack_copy):
    from interreid.engine.full import pack_for_gallery, pack_identity

    ident = pack_identity(packs.read_manifest(tiny_pack))
    gallery = _FakeGallery(EmbedderIdentity(ident.name, ident.version, ident.dim, extra=dict(ident.extra)))
    with pytest.raises(ModelPackError, match="not installed"):
        pack_for_gallery(gallery)
    dest = packs.install_pack(tiny_pack)
    folder, info = pack_for_gallery(gallery)
    assert folder == dest and info["manifest_sha256"] == ident.extra["manifest_sha256"]
    assert info["weights"] == "random"
    manifest = json.loads((pack_copy / "manifest.json").read_text())
    manifest["version"] = "9"
    packs.write_manifest(pack_copy, manifest)
    with pytest.raises(ModelPackError, match="built with model pack tiny-test 1.0"):
        pack_for_gallery(gallery, pack_copy)

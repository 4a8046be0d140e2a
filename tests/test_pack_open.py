"""A model pack is opened and verified once into a ModelPack, not re-hashed for every engine."""

from __future__ import annotations

import shutil

import pytest

from fixtures_full import TINY, tiny_pack  # noqa: F401

from interreid.engine.errors import ModelPackError


class _FakeGallery:
    def __init__(self, identity):
        self.embedder_identity = identity


@pytest.fixture
def pack_copy(tiny_pack, tmp_path):  # noqa: F811
    dst = tmp_path / "copy"
    shutil.copytree(tiny_pack, dst)
    return dst


def test_open_pack_verifies_once_until_a_file_changes(pack_copy, monkeypatch):
    from interreid.engine.full import pack as packmod

    calls = []
    real = packmod.verify_pack
    monkeypatch.setattr(packmod, "verify_pack", lambda folder, check_loads=True: calls.append(folder) or
                        real(folder, check_loads))
    first = packmod.open_pack(pack_copy)
    assert first.verified and first.name == "tiny-test" and first.has("retriever") and not first.has("selector")
    again = packmod.open_pack(pack_copy)
    assert len(calls) == 1 and again.manifest.sha256 == first.manifest.sha256
    assert packmod.open_pack(pack_copy, verify=False).verified is False and len(calls) == 1

    path = pack_copy / "retriever" / "text.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))  # the file changed: verified again, and refused
    with pytest.raises(ModelPackError, match=r"retriever/text\.onnx .*SHA-256"):
        packmod.open_pack(pack_copy)
    assert len(calls) == 2


def test_build_engine_twice_hashes_the_pack_once(pack_copy, monkeypatch):
    from interreid.engine.embedder import EmbedderIdentity
    from interreid.engine.engines import build_engine
    from interreid.engine.full import manifest as manifestmod
    from interreid.engine.full import pack as packmod

    opened = packmod.open_pack(pack_copy, verify=False)
    ident = opened.identity()
    gallery = _FakeGallery(EmbedderIdentity(ident.name, ident.version, ident.dim, extra=dict(ident.extra)))
    hashed = []
    real = manifestmod.sha256_file
    monkeypatch.setattr(manifestmod, "sha256_file", lambda p: hashed.append(str(p)) or real(p))
    one = build_engine(gallery, selector="top", questioner="template", pack=pack_copy)
    files = len([h for h in hashed if not h.endswith("manifest.json")])
    assert files >= 4  # the first engine re-hashed every file of the pack
    two = build_engine(gallery, selector="kmeans", questioner="infogain", pack=pack_copy)
    assert len([h for h in hashed if not h.endswith("manifest.json")]) == files  # the second did not
    assert one.pack == two.pack == opened.info()
    assert one.retriever.encode_text(["a man in red"]).shape == (1, 512)

"""`interreid case verify FILE --gallery DIR`: a case checked against its gallery's new folder after a move,
without writing anything to the case (`case relocate` is the step that records the move)."""

from __future__ import annotations

import hashlib
import json
import shutil

from interreid.engine.casefile import CaseFile
from interreid.engine.cli.main import main


def test_verify_against_a_moved_gallerys_new_folder_records_nothing(tmp_path, lite_gallery, crops_dir, capsys):
    """`case verify CASE --gallery DIR`: the case checked against the gallery where it is now (moved with
    shutil.move), the case file left byte for byte as it was; another gallery, or a folder with none, is refused
    in one sentence (status 2) as relocate refuses it."""
    from interreid.engine.session import import_into

    case = tmp_path / "moved.case"
    assert main(["case", "new", str(case), "--title", "Moved gallery", "--gallery", str(lite_gallery)]) == 0
    moved = tmp_path / "elsewhere" / "gallery-moved"
    moved.parent.mkdir()
    shutil.move(str(lite_gallery), str(moved))
    before = hashlib.sha256(case.read_bytes()).hexdigest()
    capsys.readouterr()
    assert main(["case", "verify", str(case)]) == 1  # where the case names it: not there
    out = capsys.readouterr().out
    assert "CASE NOT FULLY VERIFIED" in out and f"interreid case verify {case} --gallery DIR" in out
    assert main(["case", "verify", str(case), "--gallery", str(moved)]) == 0
    out = capsys.readouterr().out
    assert "case verified: nothing altered" in out and "12 re-hashed, 0 altered, 0 missing" in out
    assert f"checked in {moved}" in out and f"still names {lite_gallery}" in out
    assert main(["case", "verify", str(case), "--gallery", str(moved), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["images_checked"] == 12 and not result["unchecked"]
    assert hashlib.sha256(case.read_bytes()).hexdigest() == before  # nothing written to the case
    with CaseFile.open(case) as c:
        assert c.meta("gallery_path") == str(lite_gallery)
        assert not any(e.event == "case.gallery_moved" for e in c.audit_entries())
    other = tmp_path / "other"
    import_into(other, [crops_dir / "cam01"], engine="lite")
    capsys.readouterr()
    (tmp_path / "empty").mkdir()
    for folder, said in ((other, "holds another gallery"), (tmp_path / "empty", "holds no interreid gallery"),
                         (tmp_path / "not there", "does not exist")):
        assert main(["case", "verify", str(case), "--gallery", str(folder)]) == 2
        captured = capsys.readouterr()
        assert said in captured.err and "nothing was checked" in captured.err and captured.err.count("\n") == 1
        assert "Traceback" not in captured.err and "verified" not in captured.out
    assert hashlib.sha256(case.read_bytes()).hexdigest() == before

"""The hostile suite's table is well formed (fast; the batch itself is test_hostile.py, -m hostile)."""

from __future__ import annotations

import os
from collections import Counter

from helpers import ROOT
from hostile_cases import CASES, HONEST, KATAS, SECRET_NAME, SECRET_TOKENS, is_regular, materialise, write_hidden

from backprop_katas.catalog import load_catalog


def test_case_ids_are_unique_three_characters_and_name_known_honest_code_and_graded_katas():
    ids = Counter(c.id for c in CASES)
    assert [i for i, n in ids.items() if n > 1] == []
    for case in CASES:
        assert len(case.id) == 3 and case.id.isascii() and case.id.isalnum(), case.id
        assert case.honest in HONEST, case.id
        assert case.kata in KATAS, case.id
    assert len(CASES) >= 30


def test_every_graded_honest_variant_changes_the_kata_it_is_the_baseline_for():
    for case in CASES:
        honest = HONEST[case.honest]
        if honest.stated is None:
            assert f"{case.kata}.py" in honest.files, (case.id, case.honest)


def test_every_materialised_learner_folder_holds_kata_files_that_compile(tmp_path):
    made = materialise(tmp_path)
    assert all(case.id in made for case in CASES)
    assert sorted(os.listdir(os.fsencode(tmp_path))) == sorted(made.values())
    for folder in made.values():
        path = os.path.join(os.fsencode(tmp_path), folder)
        names = [n for n in os.listdir(path) if n.startswith(b"k") and n.endswith(b".py")]
        assert len(names) == len(load_catalog(ROOT)), folder
        for name in names:
            if not is_regular(os.path.join(path, name)):  # the file-system class: a pipe, a link, a folder
                assert any(c.error and folder == made[c.id] for c in CASES), (folder, name)
                continue
            if os.lstat(os.path.join(path, name)).st_size > 1 << 20:
                continue  # the 64 GB sparse file
            with open(os.path.join(path, name), "rb") as handle:
                compile(handle.read(), os.fsdecode(name), "exec")


def test_the_hidden_test_holds_every_secret_token_it_is_checked_for(tmp_path):
    text = (write_hidden(tmp_path / "hidden") / "test_k05_quokka_hidden.py").read_text(encoding="utf-8")
    assert f"def {SECRET_NAME}(run)" in text
    assert all(token in text or token in "test_k05_quokka_hidden.py" for token in SECRET_TOKENS)

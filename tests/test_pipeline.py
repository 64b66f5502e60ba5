"""`processor run`: the run folder, fordelning.json, manifest.json, atomicity; `processor init`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import processor_command
from processor.errors import InputError
from processor.pipeline import run
from processor.rundir import IncompleteRun

ROOT = Path(__file__).resolve().parents[1]
DALARNA = ROOT / "input" / "dalarna_2020.xlsx"
SEED_004 = {
    "Avesta": 1264598, "Borlänge": 2869325, "Falun": 3241208, "Gagnef": 562189, "Hedemora": 845193,
    "Leksand": 862434, "Ludvika": 1467562, "Malung-Sälen": 553132, "Mora": 1116849, "Orsa": 377066,
    "Rättvik": 597435, "Smedjebacken": 594380, "Säter": 605237, "Vansbro": 371283, "Älvdalen": 383613,
}


def test_run_reproduces_seed_004_to_the_krona(cli, tmp_path):
    status, out, _ = cli("run", DALARNA, "--out", tmp_path)
    assert status == 0
    run_dir = Path(out.strip().splitlines()[-1])
    assert run_dir.parent == tmp_path and run_dir.name.startswith("dalarna_2020_")
    result = json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8"))
    assert {r["name"]: r["total"] for r in result["recipients"]} == SEED_004
    assert result["total"] == 15_711_504 and result["carried_over"] == 0 and result["rounding"] == 1
    (post,) = result["posts"]
    assert post == {"name": "Medel", "method": "nyckel", "amount": 15711504, "area": None,
                    "key": [{"column": "Befolkning", "weight": 100}], "per_unit": 54.56}
    avesta = result["recipients"][0]
    assert avesta == {"name": "Avesta", "email": ["registrator@avesta.kommun.example"], "group": "Kommun",
                      "participates": True, "amounts": {"Medel": 1264598}, "total": 1264598,
                      "bases": {"Befolkning": "23178"}}
    assert any("287 795" in w and "287 966" in w for w in result["warnings"])
    assert "287 795" in out and "Varning" in out


def test_json_invariants_for_stockholm(tmp_path):
    result = run(ROOT / "input" / "stockholm_2024.xlsx", tmp_path)
    doc = json.loads((result.run_dir / "fordelning.json").read_text(encoding="utf-8"))
    assert doc["total"] == 53_690_007 and doc["carried_over"] == 11_500_000
    for post in doc["posts"]:
        assert sum(r["amounts"].get(post["name"], 0) for r in doc["recipients"]) == post["amount"]
    assert sum(r["total"] for r in doc["recipients"]) == doc["total"]
    elder = next(r for r in doc["recipients"] if r["name"] == "Äldreförvaltningen")
    assert elder["amounts"] == {"Samordning": 6_710_007}
    assert "Grundstöd" not in elder["amounts"]


def test_weights_are_numbers(workbook, tmp_path):
    path = workbook(recipients=[("Mottagare", "Befolkning", "Patienter"), ("A", 1, 2), ("B", 3, 1)],
                    case=[("Rubrik", "X"), ("Medel att fördela", 1000), ("Nyckel", "Befolkning 33,3 %, Patienter 66,7 %")])
    doc = json.loads((run(path, tmp_path).run_dir / "fordelning.json").read_text(encoding="utf-8"))
    assert doc["posts"][0]["key"] == [{"column": "Befolkning", "weight": 33.3}, {"column": "Patienter", "weight": 66.7}]
    assert doc["posts"][0]["per_unit"] is None


def test_manifest_lists_every_file_with_checksums(tmp_path):
    before = hashlib.sha256(DALARNA.read_bytes()).hexdigest()
    result = run(DALARNA, tmp_path)
    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"] == {"file": "dalarna_2020.xlsx", "sha256": before}
    assert manifest["program"]["name"] == "processor" and manifest["program"]["version"]
    dt.datetime.fromisoformat(manifest["created"])
    assert manifest["warnings"] and "287 795" in manifest["warnings"][0]
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    on_disk = {p.relative_to(result.run_dir).as_posix() for p in result.run_dir.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert set(listed) == on_disk and {"fordelning.json", "fordelning.xlsx"} <= on_disk
    for path, digest in listed.items():
        if path != "uppfoljning.xlsx":
            assert hashlib.sha256((result.run_dir / path).read_bytes()).hexdigest() == digest
    assert hashlib.sha256(DALARNA.read_bytes()).hexdigest() == before


def test_the_ledger_is_listed_without_a_checksum_as_the_file_meant_to_be_edited(tmp_path):
    result = run(DALARNA, tmp_path)
    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = next(f for f in manifest["files"] if f["path"] == "uppfoljning.xlsx")
    assert entry == {"path": "uppfoljning.xlsx", "bytes": (result.run_dir / "uppfoljning.xlsx").stat().st_size,
                     "sha256": None, "edited": True}


def test_runs_never_overwrite_each_other(tmp_path):
    now = dt.datetime(2024, 5, 21, 9, 30, 0)
    first = run(DALARNA, tmp_path, now=now).run_dir
    second = run(DALARNA, tmp_path, now=now).run_dir
    assert first.name == "dalarna_2020_20240521-093000"
    assert second.name == "dalarna_2020_20240521-093000_2"
    assert (first / "fordelning.json").exists() and (second / "fordelning.json").exists()


def test_each_run_starts_a_case_of_its_own_even_from_the_same_workbook(tmp_path):
    from processor.case_folder import open_case_folder

    now = dt.datetime(2024, 5, 21, 9, 30, 0)
    folders = [run(DALARNA, tmp_path, now=now).run_dir for _ in range(2)]
    ids = [json.loads((f / "fordelning.json").read_text(encoding="utf-8"))["case_id"] for f in folders]
    assert ids[0] != ids[1] and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert [open_case_folder(f).case_id for f in folders] == ids


def test_a_run_folder_from_before_case_ids_is_identified_by_its_result(tmp_path):
    from processor.case_folder import open_case_folder

    folder = run(DALARNA, tmp_path, now=dt.datetime(2024, 5, 21, 9, 30, 0)).run_dir
    result = folder / "fordelning.json"
    document = json.loads(result.read_text(encoding="utf-8"))
    del document["case_id"]
    result.write_text(json.dumps(document), encoding="utf-8")
    assert open_case_folder(folder).case_id == hashlib.sha256(result.read_bytes()).hexdigest()


def test_failed_run_leaves_nothing_behind(workbook, tmp_path, monkeypatch):
    import processor.report

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(processor.report, "write_report", broken)  # after the letters and e-mails are written
    out = tmp_path / "ut"
    with pytest.raises(RuntimeError):
        run(workbook(), out)
    assert list(out.iterdir()) == []


def test_bad_workbook_creates_no_output_folder(workbook, tmp_path):
    out = tmp_path / "ut"
    with pytest.raises(InputError):
        run(workbook(case=[("Rubrik", "X")]), out)
    assert not out.exists()


def test_validate_prints_the_allocation_and_writes_nothing(cli, tmp_path):
    status, out, err = cli("validate", DALARNA)
    assert status == 0 and err == ""
    assert "Avesta" in out and "1 264 598 kr" in out and "Inga fel" in out
    assert list(tmp_path.iterdir()) == []


def test_init_writes_examples_and_templates_and_never_overwrites(cli, tmp_path):
    status, out, _ = cli("init", tmp_path)
    assert status == 0
    assert (tmp_path / "dalarna_2020.xlsx").exists() and (tmp_path / "stockholm_2024.xlsx").exists()
    assert (tmp_path / "mallar").is_dir()
    status, out2, _ = cli("validate", tmp_path / "stockholm_2024.xlsx")
    assert status == 0
    (tmp_path / "dalarna_2020.xlsx").write_bytes(b"mine")
    status, out3, _ = cli("init", tmp_path)
    assert status == 0 and "Fanns redan" in out3
    assert (tmp_path / "dalarna_2020.xlsx").read_bytes() == b"mine"


def test_shipped_examples_match_their_source(tmp_path):
    """input/ holds exactly what processor.examples builds (regenerate with python -m processor.examples)."""
    from processor.examples import write_examples
    from processor.validate import load_case

    write_examples(tmp_path)
    for name in ("dalarna_2020.xlsx", "stockholm_2024.xlsx"):
        shipped, fresh = load_case(ROOT / "input" / name), load_case(tmp_path / name)
        assert shipped.info == fresh.info and shipped.recipients == fresh.recipients
        assert shipped.posts == fresh.posts and shipped.texts == fresh.texts


def test_help_is_swedish_and_lists_the_commands(run_processor):
    done = run_processor("--help")
    assert done.returncode == 0
    for command in ("run", "validate", "init"):
        assert command in done.stdout
    assert "arbetsbok" in done.stdout.lower()


def test_a_run_folder_is_made_like_any_folder_the_user_makes(tmp_path):
    previous = os.umask(0o022)
    try:
        run_dir = run(DALARNA, tmp_path).run_dir
    finally:
        os.umask(previous)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in run_dir.rglob("*") if p.is_dir()} == {0o755}


def test_a_hidden_folder_emptied_midway_is_not_published(tmp_path):
    out = tmp_path / "ut"

    def progress(line: str) -> None:
        if line.startswith("Skrev rapporten"):
            (hidden,) = [p for p in out.iterdir() if p.name.startswith(".")]
            shutil.rmtree(hidden)
            hidden.mkdir()

    with pytest.raises(IncompleteRun, match=r"körmappen blev inte hel: \d+ av \d+ filer som skrevs saknas"):
        run(DALARNA, out, progress=progress)
    assert list(out.iterdir()) == []


def test_the_command_says_so_and_fails_when_the_hidden_folder_is_emptied(cli, tmp_path, monkeypatch):
    import processor.report

    write_report = processor.report.write_report

    def then_emptied(case, allocation, run_dir, *args, **kwargs):
        written = write_report(case, allocation, run_dir, *args, **kwargs)
        shutil.rmtree(run_dir)
        run_dir.mkdir()
        return written

    monkeypatch.setattr(processor.report, "write_report", then_emptied)
    status, out, err = cli("run", DALARNA, "--out", tmp_path / "ut")
    assert status == 1 and "Klart" not in out
    assert "Fel: körmappen blev inte hel" in err and "Ingen körmapp skrevs. Kör processor run igen." in err
    assert list((tmp_path / "ut").iterdir()) == []


# --- a run killed midway --------------------------------------------------------------------------

def children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat_file.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def killed_midway(workbook_path: Path, out: Path, how: signal.Signals) -> tuple[subprocess.Popen, set[int]]:
    """Start ``processor run``, wait until it writes its hidden folder with its workers, and send ``how``."""
    process = subprocess.Popen(processor_command() + ["run", str(workbook_path), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    workers: set[int] = set()
    while not workers and process.poll() is None and time.monotonic() < deadline:
        hidden = out.is_dir() and any(p.name.startswith(".") for p in out.iterdir())
        workers = children(process.pid) if hidden else set()
        time.sleep(0.005)
    if not workers:
        process.kill()
        pytest.fail("the run ended before its workers could be seen")
    os.kill(process.pid, how)
    process.wait(timeout=120)
    return process, workers


def many_recipients(workbook):
    rows = [("Mottagare", "E-post", "Befolkning")] + [(f"Kommun {i:03}", f"k{i}@kommun.example", 1000 + i)
                                                    for i in range(400)]
    return workbook(recipients=rows)


def gone(pids: set[int]) -> bool:
    deadline = time.monotonic() + 60
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                    reason="forked workers need Linux (/proc) and two cores")
def test_a_run_stopped_with_sigterm_cleans_up_like_ctrl_c(workbook, tmp_path):
    out = tmp_path / "ut"
    process, workers = killed_midway(many_recipients(workbook), out, signal.SIGTERM)
    assert process.returncode == 1
    assert gone(workers)
    assert list(out.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                    reason="forked workers need Linux (/proc) and two cores")
def test_a_run_killed_outright_leaves_no_workers_and_the_next_run_removes_its_folder(workbook, tmp_path):
    out = tmp_path / "ut"
    path = many_recipients(workbook)
    _, workers = killed_midway(path, out, signal.SIGKILL)
    assert gone(workers)
    (left,) = [p.name for p in out.iterdir()]
    assert left.startswith(".arbetsbok1.")
    said = []
    result = run(DALARNA, out, progress=said.append)
    assert [p.name for p in out.iterdir()] == [result.run_dir.name]
    assert f"Tog bort {left}, som en avbruten körning lämnade efter sig." in said


def test_a_run_folder_under_a_relative_out_folder_is_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(DALARNA, Path("ut"))
    assert result.run_dir.parent == tmp_path / "ut" and (result.run_dir / "brev" / "Avesta.docx").is_file()

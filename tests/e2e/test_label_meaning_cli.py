"""Labels keep their meaning through the real CLI and a real `ahoy serve`: class
ids as data.yaml writes them, schema changes over existing labels refused unless
mapped (and then shown as reclassed), image sizes for COCO, a YOLO export without
val, erasure of a file only old versions hold, and the import's split report."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
import yaml
from PIL import Image

from appliance.domain.split import SplitConfig, assign_split
from appliance.ingest.scan import scan_tree
from appliance.progress import NoProgress
from appliance.sdk.upload import upload_labelled
from tests.e2e.conftest import client

pytestmark = pytest.mark.e2e

GAPPY = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 15: "cat", 41: "cup"}
BOX = "0.5 0.5 0.2 0.2"


def _png(size: tuple[int, int], seed: int) -> bytes:
    image = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, 120))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _yolo(
    root: Path,
    names: dict[int, str] | list[str],
    labels: dict[str, list[int]],
    *,
    split_of: dict[str, str] | None = None,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """A YOLO folder: one PNG per entry of ``labels`` (name → the class of each box)."""
    (root / "data.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(yaml.safe_dump({"path": ".", "names": names}))
    for i, (stem, classes) in enumerate(sorted(labels.items())):
        split = (split_of or {}).get(stem, "train")
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        (root / "images" / split / f"{stem}.png").write_bytes(_png(size, i + len(root.name)))
        rows = "".join(f"{c} {0.2 + 0.3 * k:g} 0.5 0.2 0.2\n" for k, c in enumerate(classes))
        (root / "labels" / split / f"{stem}.txt").write_text(rows)
    return root


def _schema(appliance, name: str) -> dict[int, str]:
    r = appliance.ahoy_json("dataset", "schema", name)
    return {c["id"]: c["name"] for c in r["classes"] if not c.get("reserved")}


def _said(r) -> str:
    return r.stdout + r.stderr


# -- 1. data.yaml names with gaps ---------------------------------------------------------


def test_gappy_data_yaml_names_keep_their_ids(appliance, tmp_path):
    root = _yolo(tmp_path / "gappy", GAPPY, {"a": [5, 15], "b": [41, 0], "c": [5]})
    appliance.ahoy("dataset", "create", "gappy")
    r = appliance.ahoy_json("dataset", "import-yolo", str(root), "-d", "gappy")
    assert r["labelled"] == 3
    assert _schema(appliance, "gappy") == GAPPY  # bus stays 5, cat 15, cup 41
    appliance.ahoy("dataset", "commit", "gappy", "-m", "gappy")
    stats = appliance.ahoy_json("dataset", "stats", "gappy", "-v", "1")
    per_class = {c["name"]: c["objects"] for c in stats["per_class"] if c["objects"]}
    assert per_class == {"bus": 2, "cat": 1, "cup": 1, "person": 1}
    out = tmp_path / "out"
    appliance.ahoy("dataset", "export", "gappy", str(out), "-v", "1")
    names = yaml.safe_load((out / "data.yaml").read_text())["names"]
    assert (names[5], names[15], names[41], len(names)) == ("bus", "cat", "cup", 42)
    assert (out / "labels" / "train" / "c.txt").read_text().startswith("5 ")


def test_a_label_on_a_gap_of_data_yaml_is_refused_naming_the_ids(appliance, tmp_path):
    root = _yolo(tmp_path / "gap", GAPPY, {"a": [4]})
    appliance.ahoy("dataset", "create", "gap")
    r = appliance.ahoy("dataset", "import-yolo", str(root), "-d", "gap", check=False)
    assert r.returncode == 2
    assert "class 4 is not one of data.yaml's names (0-3, 5, 15, 41)" in _said(r)
    assert appliance.ahoy_json("dataset", "status", "gap")["working_files"] == 0


# -- 2. schema changes over existing labels ------------------------------------------------


def _coco(tmp_path: Path, categories: list[dict], count: int = 2) -> tuple[Path, Path]:
    images = tmp_path / "coco-imgs"
    images.mkdir()
    coco: dict = {"images": [], "annotations": [], "categories": categories}
    for i in range(count):
        (images / f"c{i}.png").write_bytes(_png((40, 30), 100 + i))
        coco["images"].append({"id": i + 1, "file_name": f"c{i}.png", "width": 40, "height": 30})
        coco["annotations"].append(
            {"id": i + 1, "image_id": i + 1, "category_id": categories[i % 2]["id"],
             "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0}
        )  # fmt: skip
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    return tmp_path / "ann.json", images


def test_import_coco_over_a_schema_is_refused_unless_mapped(appliance, tmp_path):
    five = ["person", "car", "bus", "truck", "bike"]
    root = _yolo(tmp_path / "five", five, {"p": [0, 0], "c": [1], "b": [2]})
    appliance.ahoy("dataset", "create", "five")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "five")
    appliance.ahoy("dataset", "commit", "five", "-m", "five classes")
    ann, images = _coco(tmp_path, [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}])
    args = ("dataset", "import-coco", str(ann), "--images", str(images), "-d", "five")
    r = appliance.ahoy(*args, check=False)
    assert r.returncode == 5, _said(r)
    said = _said(r)
    assert "class 0 'person' (2 objects) would read as 'car'" in said
    assert "class 1 'car' (1 objects) would read as 'person'" in said
    assert "--map 0=1 --map 1=0" in said
    assert _schema(appliance, "five") == dict(enumerate(five))  # untouched
    assert appliance.ahoy_json("dataset", "status", "five")["working_files"] == 3  # no upload
    done = appliance.ahoy_json(*args, "--map", "0=1", "--map", "1=0")
    assert done["schema"]["relabelled"] == {"files": 2, "reclassed": 3, "dropped": 0}
    assert _schema(appliance, "five") == {0: "car", 1: "person", 2: "bus", 3: "truck", 4: "bike"}
    appliance.ahoy("dataset", "commit", "five", "-m", "coco in")
    diff = appliance.ahoy_json("dataset", "diff", "five", "1", "2", "--labels")
    assert diff["labels"]["p.png"]["summary"]["reclassed"] == 2
    assert diff["labels"]["c.png"]["summary"]["reclassed"] == 1
    assert "b.png" not in diff["labels"]  # bus kept its id and name
    stats = appliance.ahoy_json("dataset", "stats", "five", "-v", "2")
    per_class = {c["name"]: c["objects"] for c in stats["per_class"] if c["objects"]}
    assert per_class == {"person": 3, "car": 2, "bus": 1}  # 2 + 1 from COCO, 1 + 1


def test_a_preset_over_labelled_classes_is_refused_unless_mapped(appliance, tmp_path):
    seven = ["tank", "truck", "car", "gun", "shadow", "trench", "soldier"]
    root = _yolo(tmp_path / "seven", seven, {"a": [0, 6], "b": [1, 2]})
    appliance.ahoy("dataset", "create", "seven")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "seven")
    appliance.ahoy("dataset", "commit", "seven", "-m", "seven classes")
    r = appliance.ahoy("dataset", "schema", "seven", "--preset", "weather-17x3", check=False)
    assert r.returncode == 5, _said(r)
    said = _said(r)
    for line in (
        "class 0 'tank' (1 objects) would read as 'ArmorVehicle_Norm'",
        "class 1 'truck' (1 objects) would read as 'Truck_Norm'",
        "class 2 'car' (1 objects) would read as 'Vehicle_Norm'",
        "class 6 'soldier' (1 objects) would read as 'MilitaryMan_Norm'",
    ):
        assert line in said
    assert len(_schema(appliance, "seven")) == 7
    maps = ("--map", "0=20", "--map", "1=21", "--map", "2=2", "--map", "6=drop")
    r = appliance.ahoy_json("dataset", "schema", "seven", "--preset", "weather-17x3", *maps)
    assert r["relabelled"] == {"files": 2, "reclassed": 2, "dropped": 1}
    assert len(_schema(appliance, "seven")) == 51
    appliance.ahoy("dataset", "commit", "seven", "-m", "weather preset")
    diff = appliance.ahoy_json("dataset", "diff", "seven", "1", "2", "--labels")
    a, b = diff["labels"]["a.png"], diff["labels"]["b.png"]
    assert (a["summary"]["reclassed"], a["summary"]["removed"]) == (1, 1)
    assert a["reclassed"][0]["new"]["class"] == 20 and a["removed"][0]["class"] == 6
    assert (b["summary"]["reclassed"], b["summary"]["unchanged"]) == (1, 1)


def test_a_bad_mapping_is_refused_naming_it(appliance, tmp_path):
    root = _yolo(tmp_path / "badmap", ["a", "b"], {"x": [0]})
    appliance.ahoy("dataset", "create", "badmap")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "badmap")
    for option, says in (("0=99", "99 is not a class of the new schema"), ("0", "OLD=NEW")):
        r = appliance.ahoy(
            "dataset", "schema", "badmap", "--preset", "weather-17x3", "--map", option,
            check=False,
        )  # fmt: skip
        assert r.returncode == 2 and says in _said(r), _said(r)
    assert _schema(appliance, "badmap") == {0: "a", 1: "b"}


# -- 3. image sizes for COCO ------------------------------------------------------------------


def test_coco_export_of_a_yolo_import_has_each_image_size(appliance, tmp_path):
    root = _yolo(tmp_path / "sized", ["a"], {"x": [0], "y": [0]}, size=(64, 48))
    turned = Image.new("RGB", (80, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown a quarter turn round: 20 wide, 80 high
    buf = io.BytesIO()
    turned.save(buf, "JPEG", exif=exif.tobytes())
    (root / "images" / "train" / "z.jpg").write_bytes(buf.getvalue())
    (root / "labels" / "train" / "z.txt").write_text(f"0 {BOX}\n")
    appliance.ahoy("dataset", "create", "sized")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "sized")
    appliance.ahoy("dataset", "commit", "sized", "-m", "v1")
    out = tmp_path / "coco"
    appliance.ahoy("dataset", "export", "sized", str(out), "-v", "1", "--format", "coco")
    coco = json.loads((out / "annotations.json").read_text())
    sizes = {i["file_name"]: (i["width"], i["height"]) for i in coco["images"]}
    assert sizes == {"x.png": (64, 48), "y.png": (64, 48), "z.jpg": (20, 80)}
    assert coco["annotations"][0]["bbox"] == [6.4, 19.2, 12.8, 9.6]  # 0.2 0.5 0.2 0.2


def test_coco_export_reads_sizes_that_older_label_documents_lack(appliance, tmp_path):
    """Versions imported before sizes were kept: the export reads each header."""
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "o.png").write_bytes(_png((30, 10), 7))
    doc = {"format": "ahoy.labels/1", "size": None, "tags": [],
           "objects": [{"type": "box", "class": 0, "box": [0.5, 0.5, 0.2, 0.2]}]}  # fmt: skip
    c = client(appliance)
    appliance.ahoy("dataset", "create", "oldsizes")
    c.set_schema(None, "oldsizes", classes=[{"id": 0, "name": "a"}])
    labels = {"o.png": json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()}
    upload_labelled(c, None, "oldsizes", scan_tree(folder), labels, NoProgress())
    appliance.ahoy("dataset", "commit", "oldsizes", "-m", "v1")
    out = tmp_path / "coco"
    appliance.ahoy("dataset", "export", "oldsizes", str(out), "-v", "1", "--format", "coco")
    coco = json.loads((out / "annotations.json").read_text())
    assert [(i["width"], i["height"]) for i in coco["images"]] == [(30, 10)]


# -- 4. a YOLO export without val -------------------------------------------------------------


def test_a_yolo_export_without_val_says_so(appliance, tmp_path):
    root = _yolo(tmp_path / "noval", ["a"], {"x": [0], "y": [0]})
    appliance.ahoy("dataset", "create", "noval", "--split", "train=1")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "noval")
    appliance.ahoy("dataset", "commit", "noval", "-m", "v1")
    out = tmp_path / "out"
    r = appliance.ahoy("dataset", "export", "noval", str(out), "-v", "1")
    assert (
        "warning: noval@1 has no val images: data.yaml names only train, and Ultralytics"
        " cannot train on it" in r.stderr
    )
    text = (out / "data.yaml").read_text()
    assert "# no val images" in text and "val" not in yaml.safe_load(text)
    answer = appliance.ahoy_json("dataset", "export", "noval", str(tmp_path / "j"), "-v", "1")
    assert answer["warnings"] and "no val images" in answer["warnings"][0]
    # one split asked for, or a version with val: nothing to say
    r = appliance.ahoy("dataset", "export", "noval", str(tmp_path / "t"), "--split", "train")
    assert "warning" not in r.stderr
    ok = _yolo(tmp_path / "withval", ["a"], {"x": [0], "y": [0]})
    appliance.ahoy("dataset", "create", "withval", "--split", "train=0,val=1")
    appliance.ahoy("dataset", "import-yolo", str(ok), "-d", "withval")
    appliance.ahoy("dataset", "commit", "withval", "-m", "v1")
    r = appliance.ahoy("dataset", "export", "withval", str(tmp_path / "w"), "-v", "1")
    assert "warning" not in r.stderr


# -- 5. erase a file that only versions hold ------------------------------------------------------


def test_erase_finds_a_file_in_any_version(appliance, tmp_path):
    src = tmp_path / "e"
    src.mkdir()
    (src / "gone.bin").write_bytes(b"first content of gone")
    (src / "two.bin").write_bytes(b"two, first")
    (src / "keep.bin").write_bytes(b"stays in every version")
    appliance.ahoy("dataset", "create", "erasing")
    appliance.ahoy("dataset", "import", str(src), "-d", "erasing")
    appliance.ahoy("dataset", "commit", "erasing", "-m", "v1")
    (src / "two.bin").write_bytes(b"two, second")
    appliance.ahoy("dataset", "import", str(src), "-d", "erasing")
    appliance.ahoy("dataset", "commit", "erasing", "-m", "v2")
    appliance.ahoy("dataset", "rm", "erasing", "gone.bin", "two.bin")
    appliance.ahoy("dataset", "commit", "erasing", "-m", "v3: both gone")
    erase = ("erase", "--dataset", "erasing", "--reason", "GDPR 77")
    r = appliance.ahoy_json(*erase, "--file", "gone.bin")  # only v1 and v2 hold it
    assert r["sha256"] == hashlib.sha256(b"first content of gone").hexdigest()
    r = appliance.ahoy(*erase, "--file", "two.bin", check=False)
    assert r.returncode == 2 and "different contents" in _said(r) and "--version" in _said(r)
    r = appliance.ahoy_json(*erase, "--file", "two.bin", "--version", "1")
    assert r["sha256"] == hashlib.sha256(b"two, first").hexdigest()
    r = appliance.ahoy(*erase, "--file", "nowhere.bin", check=False)
    assert r.returncode == 4


# -- 6. the folder's own split -------------------------------------------------------------------


def test_import_yolo_says_how_many_images_leave_their_folder_split(appliance, tmp_path):
    labels = {f"i{n:02d}": [0] for n in range(16)}
    split_of = {stem: "val" if n % 2 else "train" for n, stem in enumerate(sorted(labels))}
    root = _yolo(tmp_path / "moves", ["a"], labels, split_of=split_of)
    appliance.ahoy("dataset", "create", "moves")
    r = appliance.ahoy_json("dataset", "import-yolo", str(root), "-d", "moves")
    config = SplitConfig.from_dict(client(appliance).get_dataset(None, "moves")["split"])
    moved = 0
    for stem, split in split_of.items():
        data = (root / "images" / split / f"{stem}.png").read_bytes()
        moved += assign_split(config, hashlib.sha256(data).hexdigest()) != split
    assert moved > 0  # half the folder is val; the default split gives val 10 %
    assert (r["split"]["moved"], r["split"]["kept"]) == (moved, 16 - moved)
    human = appliance.ahoy("dataset", "import-yolo", str(root), "-d", "moves").stdout
    assert f"{moved} move (" in human and "docs/data-engine.md" in human

"""Class ids keep their meaning: data.yaml names with gaps, COCO categories in any
order, schema changes over existing labels (refused unless mapped), and how the
content-hash split treats a folder's own split. Pure tables."""

from __future__ import annotations

import hashlib

import pytest

from appliance.domain.labels.coco import CocoCategory, class_map, class_names
from appliance.domain.labels.document import LabelDocument, LabelError, LabelObject
from appliance.domain.labels.schema import (
    LabelClass,
    LabelSchema,
    schema_from_ids,
    schema_from_names,
    weather_preset,
)
from appliance.domain.labels.schema_change import (
    affected_classes,
    class_usage,
    import_schema,
    mapping_problems,
    may_change_meaning,
    parse_map_option,
    read_mapping,
    remap,
    suggested_mapping,
)
from appliance.domain.labels.yolo import YoloSpec, describe_ids, parse_yolo, yolo_names
from appliance.domain.split import SplitConfig, assign_split, split_moves

pytestmark = pytest.mark.unit

#: The data.yaml of the report: COCO's ids for a few classes, airplane (4) left out.
GAPPY = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 15: "cat", 41: "cup"}


# -- data.yaml names: ids as written ---------------------------------------------------

# fmt: off
NAMES = [
    # names in data.yaml                       class id → name
    (["a", "b"],                               {0: "a", 1: "b"}),
    ({0: "a", 1: "b"},                         {0: "a", 1: "b"}),
    (GAPPY,                                    GAPPY),
    ({"0": "a", "7": "b"},                     {0: "a", 7: "b"}),       # quoted keys
    ({3: "c", 0: "a"},                         {0: "a", 3: "c"}),       # any order
    (["a", "reserved_1", "c"],                 {0: "a", 2: "c"}),       # an export's gap
    ({0: "a", 2: "reserved_2"},                {0: "a"}),
    ({0: "reserved_1"},                        {0: "reserved_1"}),      # not its own slot
]
# fmt: on


@pytest.mark.parametrize(("raw", "names"), NAMES)
def test_data_yaml_names_keep_their_ids(raw, names):
    assert yolo_names(raw) == names


# fmt: off
BAD_NAMES = [
    (None,                  "needs `names`"),
    ([],                    "needs `names`"),
    ({-1: "a"},             "names key -1 is not a class id"),
    ({"x": "a"},            "names key 'x' is not a class id"),
    ({True: "a"},           "names key True is not a class id"),
    ({0: None},             "names 0: None is not a class name"),
    (["a", " "],            "names 1: ' ' is not a class name"),
]
# fmt: on


@pytest.mark.parametrize(("raw", "says"), BAD_NAMES)
def test_bad_data_yaml_names_are_refused(raw, says):
    with pytest.raises(LabelError) as info:
        yolo_names(raw)
    assert info.value.where == "data.yaml" and says in info.value.problem


def test_a_gappy_schema_keeps_bus_at_5_and_cat_at_15():
    """The reported corruption: the old import renumbered these names 0..6, so the
    slot of bus (5) held "cat" and every bus was counted as a cat."""
    schema = schema_from_ids(yolo_names(GAPPY))
    assert schema.name_of(5) == "bus" and schema.name_of(15) == "cat"
    assert schema.name_of(41) == "cup" and schema.name_of(4) is None
    names = schema.names()  # what a YOLO export writes: one per slot
    assert len(names) == 42 and names[5] == "bus" and names[15] == "cat"
    assert names[4] == "reserved_4"
    assert yolo_names(dict(enumerate(names))) == GAPPY  # and reads back the same


# fmt: off
LINES = [
    # label line          problem (None: accepted)
    ("5 0.5 0.5 0.1 0.1",  None),
    ("15 0.5 0.5 0.1 0.1", None),
    ("41 0.5 0.5 0.1 0.1", None),
    ("4 0.5 0.5 0.1 0.1",  "class 4 is not one of data.yaml's names (0-3, 5, 15, 41)"),
    ("42 0.5 0.5 0.1 0.1", "class 42 is not one of data.yaml's names (0-3, 5, 15, 41)"),
]
# fmt: on


@pytest.mark.parametrize(("line", "problem"), LINES)
def test_label_lines_use_the_ids_data_yaml_names(line, problem):
    schema = schema_from_ids(GAPPY)
    spec = YoloSpec("detect", schema.slots, None, frozenset(GAPPY))
    doc, problems = parse_yolo(line, spec, "labels/a.txt")
    if problem is None:
        assert problems == [] and doc.objects[0].cls == int(line.split()[0])
    else:
        assert [(p.where, p.problem) for p in problems] == [("labels/a.txt:1", problem)]


@pytest.mark.parametrize(
    ("ids", "text"),
    [({0}, "0"), ({0, 1, 2, 3, 5, 15, 41}, "0-3, 5, 15, 41"), ({2, 4, 5}, "2, 4-5"), (set(), "")],
)
def test_ids_are_described_as_runs(ids, text):
    assert describe_ids(ids) == text


def test_coco_classes_are_named_in_the_order_their_documents_use():
    """Categories listed out of id order: class i is the i-th by id on both sides
    (the old import named classes in file order, so person's boxes read as car)."""
    cats = (CocoCategory(3, "car"), CocoCategory(1, "person"), CocoCategory(90, "toothbrush"))
    names = class_names(cats)
    assert names == {0: "person", 1: "car", 2: "toothbrush"}
    assert {cid: names[i] for cid, i in class_map(cats).items()} == {c.id: c.name for c in cats}


# -- schema changes over existing labels ------------------------------------------------

FIVE = schema_from_names(["person", "car", "bus", "truck", "bike"])
TWO = schema_from_names(["car", "person"])
WITH_GAP = LabelSchema((*FIVE.classes, LabelClass(9, "boat", "#000000", reserved=True)))


def _doc(*classes: int) -> LabelDocument:
    return LabelDocument(tuple(LabelObject("box", c, (0.5, 0.5, 0.1, 0.1)) for c in classes))


# fmt: off
CHANGES = [
    # old     new                        labels use     mapping            affected ids
    (None,    TWO,                       {0: 4, 1: 2},  {},                []),        # first one
    (FIVE,    FIVE,                      {0: 4, 1: 2},  {},                []),
    (FIVE,    schema_from_names(["person", "car", "bus", "truck", "bike", "van"]),
                                         {0: 4, 4: 1},  {},                []),        # added
    (FIVE,    TWO,                       {2: 1},        {},                [2]),       # bus: gone
    (FIVE,    TWO,                       {0: 4, 1: 2},  {},                [0, 1]),    # swapped
    (FIVE,    TWO,                       {0: 4, 1: 2},  {0: 1},            [1]),
    (FIVE,    TWO,                       {0: 4, 1: 2},  {0: 1, 1: 0},      []),
    (FIVE,    TWO,                       {0: 4, 1: 2},  {0: 1, 1: None},   []),        # drop car
    (FIVE,    TWO,                       {4: 3},        {},                [4]),
    (FIVE,    TWO,                       {},            {},                []),        # no labels
    (FIVE,    weather_preset(),          {0: 1},        {},                [0]),
]
# fmt: on


@pytest.mark.parametrize(("old", "new", "used", "mapping", "ids"), CHANGES)
def test_a_change_is_refused_for_each_class_whose_labels_would_change_meaning(
    old, new, used, mapping, ids
):
    assert [a.id for a in affected_classes(old, new, used, mapping)] == ids


def test_the_refusal_names_each_class_and_the_mapping_it_needs():
    affected = affected_classes(FIVE, TWO, {0: 4, 1: 2, 2: 1}, {})
    assert [a.describe() for a in affected] == [
        "class 0 'person' (4 objects) would read as 'car'",
        "class 1 'car' (2 objects) would read as 'person'",
        "class 2 'bus' (1 objects) would be no class",
    ]
    assert suggested_mapping(affected) == ["0=1", "1=0", "2=drop"]


def test_only_a_change_that_touches_a_named_class_needs_the_labels_read():
    assert not may_change_meaning(None, TWO)
    assert not may_change_meaning(FIVE, FIVE)
    assert not may_change_meaning(FIVE, schema_from_names([*FIVE.names(), "van"]))
    assert may_change_meaning(FIVE, TWO)
    assert may_change_meaning(FIVE, weather_preset())


# fmt: off
BAD_MAPPINGS = [
    # mapping     problem
    ({7: 0},      "map 7=…: no label uses class 7 and the schema has none"),
    ({0: 5},      "map 0=5: 5 is not a class of the new schema"),
]
# fmt: on


@pytest.mark.parametrize(("mapping", "problem"), BAD_MAPPINGS)
def test_a_mapping_names_used_classes_and_targets_the_new_schema(mapping, problem):
    assert mapping_problems(FIVE, TWO, {0: 1}, mapping) == [problem]


def test_a_mapping_cannot_target_a_reserved_slot():
    assert mapping_problems(FIVE, WITH_GAP, {0: 1}, {0: 9}) == [
        "map 0=9: 9 is not a class of the new schema"
    ]


def test_remap_reclasses_and_drops_and_leaves_other_documents_alone():
    doc = _doc(0, 1, 2, 1)
    assert remap(doc, {1: 0, 2: None}) == _doc(0, 0, 0)
    untouched = _doc(3, 4)
    assert remap(untouched, {1: 0}) is untouched
    assert class_usage([doc, untouched]) == {0: 1, 1: 2, 2: 1, 3: 1, 4: 1}


# fmt: off
MAP_OPTIONS = [
    ("3=5",     (3, 5)),
    ("7=drop",  (7, None)),
    (" 2 = 0 ", (2, 0)),
    ("3",       "write OLD=NEW"),
    ("a=1",     "a class id is an integer"),
    ("1=-2",    "a class id is an integer"),
    ("1=x",     "a class id is an integer"),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), MAP_OPTIONS)
def test_map_options(text, expected):
    if isinstance(expected, str):
        with pytest.raises(LabelError, match=expected):
            parse_map_option(text)
    else:
        assert parse_map_option(text) == expected


def test_the_api_mapping_reads_drop_and_null_as_drop():
    assert read_mapping({"3": 5, "7": "drop", "8": None}) == {3: 5, 7: None, 8: None}
    with pytest.raises(LabelError):
        read_mapping({"3": "five"})


# -- an import's classes over the dataset's schema -------------------------------------

# fmt: off
IMPORTS = [
    # existing  incoming                               → None (kept) or the ids and names
    (None,      TWO,                                   [(0, "car"), (1, "person")]),
    (FIVE,      schema_from_names(["person", "car"]),  None),                 # a subset
    (FIVE,      FIVE,                                  None),
    (FIVE,      schema_from_ids({0: "person", 7: "van"}),
                [(0, "person"), (1, "car"), (2, "bus"), (3, "truck"), (4, "bike"), (7, "van")]),
    (FIVE,      TWO,
                [(0, "car"), (1, "person"), (2, "bus"), (3, "truck"), (4, "bike")]),
]
# fmt: on


@pytest.mark.parametrize(("existing", "incoming", "expected"), IMPORTS)
def test_an_import_lays_its_classes_over_the_schema(existing, incoming, expected):
    got = import_schema(existing, incoming)
    assert (None if got is None else [(c.id, c.name) for c in got.classes]) == expected


# -- a folder's own split against the content-hash split -------------------------------


def test_split_moves_count_files_by_folder_split_and_hashed_split():
    config = SplitConfig((("train", 0.8), ("val", 0.2)))
    shas = [hashlib.sha256(bytes([i])).hexdigest() for i in range(40)]
    placed = [("val" if i % 4 == 0 else "train", sha) for i, sha in enumerate(shas)]
    moves = split_moves(config, placed)
    assert sum(moves.values()) == 40
    for (given, now), n in moves.items():
        assert n == sum(1 for g, s in placed if g == given and assign_split(config, s) == now)
    assert any(a != b for a, b in moves)  # this folder's split is not the hashed one

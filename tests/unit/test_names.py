import pytest

from appliance.domain.labels.events import check_stream
from appliance.domain.names import check_filename, check_name, role_for
from appliance.errors import InvalidFilename, InvalidName
from appliance.services import registry
from appliance.services.datasets import check_slug

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("../escape.jpg", "'..'"),
        ("a/../../b", "'..'"),
        ("a//b", "empty"),
        ("a/./b", "'.'"),
        ("a\\b", "backslash"),
        ("nul\x00byte", "NUL"),
        ("bell\x07", "control"),
        ("bad\udcff.jpg", "UTF-8"),
        ("x" * 2000, "longer than"),
    ],
)
def test_rejected_names(name, reason):
    with pytest.raises(InvalidFilename, match=reason):
        check_filename(name)


@pytest.mark.parametrize("name", ["a.jpg", "dir/sub/ü.png", "with space.txt", ".hidden"])
def test_accepted_names(name):
    assert check_filename(name) == name


@pytest.mark.parametrize(
    ("name", "role"),
    [("a.JPG", "image"), ("v/clip.mp4", "video"), ("labels/a.txt", "file"), ("noext", "file")],
)
def test_roles(name, role):
    assert role_for(name) == role


# -- characters that do not show ------------------------------------------------------

ZWSP, RLO, BOM, ZWNJ = "\u200b", "\u202e", "\ufeff", "\u200c"

# fmt: off
HIDDEN = [
    #  name                   error          the reason names
    ("gold" + ZWSP,           InvalidName,   "U+200B (ZERO WIDTH SPACE), an invisible formatting"),
    ("exe." + RLO + "gpj",    InvalidName,   "U+202E (RIGHT-TO-LEFT OVERRIDE), a bidirectional"),
    (BOM + "prod",            InvalidName,   "U+FEFF (ZERO WIDTH NO-BREAK SPACE), an invisible"),
    ("a\u2066b\u2069",        InvalidName,   "U+2066 (LEFT-TO-RIGHT ISOLATE), a bidirectional"),
    ("rtl\u200f",             InvalidName,   "U+200F (RIGHT-TO-LEFT MARK), a bidirectional"),
    ("soft\u00adhyphen",      InvalidName,   "U+00AD (SOFT HYPHEN), an invisible formatting"),
    ("tab\there",             InvalidName,   "U+0009, a control character"),
    ("del\x7f",               InvalidName,   "U+007F, a control character"),
    ("c1\x85",                InvalidName,   "U+0085, a control character"),
    ("line\u2028break",       InvalidName,   "U+2028 (LINE SEPARATOR), a line separator"),
    ("para\u2029graph",       InvalidName,   "U+2029 (PARAGRAPH SEPARATOR), a paragraph"),
    ("lone\udcff",            InvalidName,   "U+DCFF, a lone surrogate"),
    ("nim" + ZWNJ + "ru",     InvalidName,   "U+200C (ZERO WIDTH NON-JOINER)"),
    ("production",            None,          None),
    ("café-été",              None,          None),
    ("ci runner (laptop)",    None,          None),
    ("模型-1",                None,          None),
]
# fmt: on


@pytest.mark.parametrize(("name", "error", "reason"), HIDDEN, ids=lambda v: repr(v)[:24])
def test_names_that_do_not_show_as_they_are_are_refused(name, error, reason):
    if error is None:
        assert check_name("tag", name) == name
        return
    with pytest.raises(error) as refused:
        check_name("tag", name)
    assert reason in refused.value.message
    assert refused.value.message.startswith(f"tag name {name!r} is not allowed")
    assert refused.value.kind == "tag" and refused.value.name == name
    assert "retype" in refused.value.hint


def _model(name: str) -> None:
    registry.check_name(name)


# Every checker a service runs on a name it stores uses the rule above first, so
# the refusal is the same everywhere and says which character it was.
CHECKERS = {
    "dataset": check_slug,
    "model": _model,
    "stream": check_stream,
}


@pytest.mark.parametrize("kind", sorted(CHECKERS))
@pytest.mark.parametrize("char", [ZWSP, RLO, BOM])
def test_every_name_checker_refuses_hidden_characters_by_name(kind, char):
    with pytest.raises(InvalidName) as refused:
        CHECKERS[kind]("gold" + char)
    assert refused.value.kind == kind
    assert f"U+{ord(char):04X}" in refused.value.message


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("images/gold" + ZWSP + ".jpg", False),
        ("images/" + RLO + "gpj.exe", False),
        (BOM + "a.jpg", False),
        ("nim" + ZWNJ + "ru.jpg", True),  # Persian words need the joiners
        ("emoji/\U0001f469\u200d\U0001f4bb.png", True),
    ],
)
def test_file_names_refuse_hidden_characters_but_keep_joiners(name, allowed):
    if allowed:
        assert check_filename(name) == name
    else:
        with pytest.raises(InvalidFilename, match=r"not shown as it is: it holds U\+"):
            check_filename(name)

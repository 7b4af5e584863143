import pytest

from appliance.domain.names import check_filename, role_for
from appliance.errors import InvalidFilename

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

from pathlib import Path

import pytest

from appliance.errors import ConfigError
from appliance.settings import Settings

pytestmark = pytest.mark.unit


def test_defaults_then_env_then_overrides(tmp_path):
    env = {"AHOY_PORT": "9000", "AHOY_DATA_DIR": str(tmp_path), "AHOY_BLOB_STORE": "local"}
    s = Settings.from_env(env, blob_store="seaweedfs")
    assert (s.port, s.data_dir, s.blob_store) == (9000, tmp_path, "seaweedfs")
    assert s.catalog_path == tmp_path / "catalog.sqlite"


def test_relative_data_dir_becomes_absolute():
    assert Settings.from_env({"AHOY_DATA_DIR": "rel/dir"}).data_dir == Path("rel/dir").absolute()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AHOY_PORT": "eighty"}, "AHOY_PORT='eighty' is not a valid int"),
        ({"AHOY_PORT": "70000"}, "outside 1..65535"),
        ({"AHOY_BLOB_STORE": "s3"}, "blob_store 's3' is not known"),
        ({"AHOY_HOST": "0.0.0.0"}, "not loopback"),
        ({"AHOY_GC_GRACE_SECONDS": "-1"}, "negative"),
    ],
)
def test_bad_settings_say_what_to_fix(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)

"""Keep Ultralytics (and anything it imports) off the network.

Measured: without these, Ultralytics pip-installs missing packages into the live
environment, writes ~/.config/Ultralytics, and fetches Arial.ttf from the network
during dataset checks, even with plots off.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def offline_env(config_dir: Path) -> dict[str, str]:
    """Environment for any process that may import ultralytics."""
    prepare_config_dir(config_dir)
    return {
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "0",
        "YOLO_CONFIG_DIR": str(config_dir),
        "HF_HUB_OFFLINE": "1",
    }


def apply_offline_env(config_dir: Path) -> None:
    os.environ.update(offline_env(config_dir))


def prepare_config_dir(config_dir: Path) -> None:
    """A config dir with a local TTF as Arial.ttf and settings that never sync."""
    config_dir.mkdir(parents=True, exist_ok=True)
    font = config_dir / "Arial.ttf"
    if not font.exists():
        source = _bundled_ttf()
        if source is not None:
            shutil.copyfile(source, font)
    settings = config_dir / "settings.json"
    if not settings.exists():
        settings.write_text('{"sync": false, "hub": false}\n')


def _bundled_ttf() -> Path | None:
    """DejaVuSans from matplotlib's own data (a dependency of ultralytics)."""
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return path if path.exists() else None

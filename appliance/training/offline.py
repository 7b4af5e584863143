"""Keep Ultralytics (and anything it imports) off the network.

Measured: without these, Ultralytics pip-installs missing packages into the live
environment, writes ~/.config/Ultralytics, and fetches Arial.ttf from the network
during dataset checks, even with plots off. Every engine process that may import
Ultralytics applies them before it does, and so does the job worker.
"""

from __future__ import annotations

import json
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
        "NO_ALBUMENTATIONS_UPDATE": "1",  # else it asks PyPI for a newer release on import
    }


def apply_offline_env(config_dir: Path) -> None:
    os.environ.update(offline_env(config_dir))


def prepare_config_dir(config_dir: Path) -> None:
    """Ultralytics reads ``$YOLO_CONFIG_DIR/Ultralytics`` (not the dir itself) for
    its settings and fonts: put there a local TTF as ``Arial.ttf`` (and as
    ``Arial.Unicode.ttf``, for non-ASCII class names) and settings with sync and every
    integration off, its directories inside the config dir. Without the font there,
    the dataset check reaches for the network (seen: a lookup of github.com)."""
    user_dir = config_dir / "Ultralytics"
    user_dir.mkdir(parents=True, exist_ok=True)
    source = _bundled_ttf()
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        font = user_dir / name
        if source is not None and not font.exists():
            shutil.copyfile(source, font)
    settings = {
        "settings_version": "0.0.8",
        "datasets_dir": str(config_dir / "datasets"),
        "weights_dir": str(config_dir / "weights"),
        "runs_dir": str(config_dir / "runs"),
        "sync": False,
        "hub": False,
        **dict.fromkeys(("clearml", "comet", "dvc", "mlflow", "raytune"), False),
        **dict.fromkeys(("tensorboard", "wandb", "vscode_msg", "openvino_msg"), False),
    }
    current = user_dir / "settings.json"
    try:
        known = json.loads(current.read_text()) if current.exists() else {}
    except ValueError:
        known = {}
    if {**known, **settings} != known:
        temp = user_dir / f".settings.{os.getpid()}.json"
        temp.write_text(json.dumps({**known, **settings}, indent=2))
        temp.replace(current)  # atomic: processes may share a config dir


def _bundled_ttf() -> Path | None:
    """DejaVuSans from matplotlib's own data (a dependency of ultralytics)."""
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return path if path.exists() else None

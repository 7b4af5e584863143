"""Fit an image into the model's square input the way Ultralytics does: scale to
fit, keep the aspect, pad with grey (114) to centre it; remember how, so boxes go
back to the original pixels."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD = 114


@dataclass(frozen=True, slots=True)
class Fitted:
    """How an image was fitted: scale, then padding (left, top), and its size."""

    scale: float
    pad_x: float
    pad_y: float
    width: int
    height: int

    def to_image(self, xyxy: np.ndarray) -> np.ndarray:
        """Boxes in model-input pixels → boxes in the original image's pixels."""
        out = xyxy.astype(np.float64, copy=True)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.height)
        return out


def letterbox(image_bgr: np.ndarray, size: int) -> tuple[np.ndarray, Fitted]:
    """``size`` × ``size`` × 3 uint8 (still BGR) and how it was fitted."""
    h, w = image_bgr.shape[:2]
    scale = min(size / h, size / w)
    new_w, new_h = round(w * scale), round(h * scale)
    pad_x, pad_y = (size - new_w) / 2, (size - new_h) / 2
    if (new_w, new_h) != (w, h):
        image_bgr = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(pad_y - 0.1), round(pad_y + 0.1)
    left, right = round(pad_x - 0.1), round(pad_x + 0.1)
    boxed = cv2.copyMakeBorder(
        image_bgr, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD, PAD, PAD)
    )
    return boxed, Fitted(scale, left, top, w, h)


def to_tensor(boxed: list[np.ndarray]) -> np.ndarray:
    """Letterboxed BGR images → the NCHW float32 RGB 0..1 batch the models take."""
    batch = np.stack(boxed)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / 255.0


def read_image(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not an image that can be read")
    return image

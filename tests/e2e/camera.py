"""Fake-camera helpers: tag symbols drawn like our printed tags, and a Y4M video of one held before a phone.

Chromium plays a Y4M file as its camera with `--use-file-for-fake-video-capture=<file>.y4m`. Y4M is a one-line
text header, then for each frame `FRAME\\n` and the raw I420 planes (Y at full size, Cb and Cr at half width and
height). Pillow's YCbCr is BT.601 full range, which is what the header's `C420jpeg` says. The files are large
(1280x720, 30 frames: 41 MB): write them in a temporary folder at test time, never commit them.
"""

import io
import math
import random
from pathlib import Path

import barcode
import qrcode
import zxingcpp
from barcode.writer import ImageWriter
from PIL import Image, ImageFilter


def qr_image(text: str, module: int = 4) -> Image.Image:
    """A QR code, version 2 or more and ECC M like our tags, with its 4-module quiet zone, greyscale."""
    qr = qrcode.QRCode(version=2, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image().get_image().convert("L")


def code128_image(text: str, module: int = 4) -> Image.Image:
    """A Code 128 barcode, `module` px per bar module, bars 40 modules tall, with quiet zones, no text."""
    options = {"module_width": module / 10, "module_height": module * 4, "quiet_zone": module, "write_text": False}
    buffer = io.BytesIO()
    # dpi 254: 0.1 mm is one pixel, so module_width module/10 mm is `module` px.
    barcode.get_barcode_class("code128")(text, writer=ImageWriter()).write(buffer, options={**options, "dpi": 254})
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def datamatrix_image(text: str, module: int = 4) -> Image.Image:
    """A square DataMatrix (ECC 200) with a quiet zone, drawn by zxing-cpp's writer."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.DataMatrix).to_image(scale=module)
    pixels = memoryview(symbol)
    height, width = pixels.shape
    image = Image.frombytes("L", (width, height), pixels.tobytes())
    framed = Image.new("L", (width + 4 * module, height + 4 * module), 255)
    framed.paste(image, (2 * module, 2 * module))
    return framed


def frames(code: Image.Image, size=(1280, 720), count: int = 30, seed: int = 0):
    """RGB frames of `code` on a grey desk, moving and tilting a little from frame to frame like a hand-held
    phone, slightly blurred and noisy like a real camera."""
    rng = random.Random(seed)
    width, height = size
    desk = Image.merge("RGB", [Image.effect_noise(size, 10).point(lambda v: v // 3 + 110)] * 3)
    for i in range(count):
        frame = desk.copy()
        tilted = code.rotate(4 * math.sin(i / 5), resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
        x = (width - tilted.width) // 2 + int(10 * math.sin(i / 3)) + rng.randint(-2, 2)
        y = (height - tilted.height) // 2 + int(8 * math.cos(i / 4)) + rng.randint(-2, 2)
        frame.paste(tilted.convert("RGB"), (x, y))
        yield frame.filter(ImageFilter.GaussianBlur(0.6))


def write_y4m(path: Path, code: Image.Image, size=(1280, 720), count: int = 30, fps: int = 15) -> Path:
    """Write a Y4M video of `code` held before the camera; returns `path`."""
    width, height = size
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames(code, size, count):
            y, cb, cr = frame.convert("YCbCr").split()
            half = (width // 2, height // 2)
            out.write(b"FRAME\n")
            out.write(y.tobytes())
            out.write(cb.resize(half, Image.Resampling.BOX).tobytes())
            out.write(cr.resize(half, Image.Resampling.BOX).tobytes())
    return path

#!/usr/bin/python3
"""Pillow side of scripts/bench's compression rows (Debian's python3-pil).

  bench_pillow.py generate DIR   writes DIR/photo-12mp.jpg, DIR/photo-12mp-rotated.jpg
                                 (EXIF orientation 6) and DIR/photo-4mp.png
  bench_pillow.py thumbnail FILE SIDE OUT   Image.thumbnail((SIDE, SIDE)) with draft
      mode (JPEG decoded at 1/2-1/8), EXIF orientation applied, saved as JPEG at
      quality 80; prints "<seconds> <peak RSS MB> <bytes>"
  bench_pillow.py compress FILE  re-encodes FILE with the original's algorithm and
      prints "<seconds> <peak RSS MB> <stored bytes> <compressed> <quality or colours>"

The algorithm is the original gallery's, the one gallery implements: EXIF
orientation first; JPEG/WebP at quality 80, 10 lower while over 1 MB, floor 45;
PNG optimised, then (no alpha) 256/128/64/32 colours until it fits; keep the
upload if the result is not smaller.
"""
import io
import resource
import sys
import time

from PIL import Image, ImageOps

LIMIT = 1024 * 1024


def generate(folder):
    # Photo-like content: smooth gradients under mild noise, so neither encoder
    # gets an unrealistically easy or hard image.
    def photo(width, height):
        gradient = Image.linear_gradient("L").resize((width, height))
        noise = Image.effect_noise((width, height), 24)
        red = Image.blend(gradient, noise, 0.35)
        green = Image.blend(gradient.transpose(Image.Transpose.ROTATE_90).resize((width, height)),
                            noise, 0.35)
        blue = Image.blend(noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.5)
        return Image.merge("RGB", (red, green, blue))

    photo(4000, 3000).save(f"{folder}/photo-12mp.jpg", quality=95)
    # A phone's portrait photo: stored sideways, EXIF orientation 6 (rotate 90).
    exif = Image.Exif()
    exif[0x0112] = 6
    photo(4000, 3000).save(f"{folder}/photo-12mp-rotated.jpg", quality=95, exif=exif)
    photo(2000, 2000).save(f"{folder}/photo-4mp.png")


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def compress(path):
    with open(path, "rb") as f:
        upload = f.read()
    start = time.perf_counter()
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(upload)))
    fmt = Image.open(io.BytesIO(upload)).format
    quality = 0
    if fmt in ("JPEG", "WEBP"):
        quality = 80
        while True:
            options = {"quality": quality, "optimize": True} if fmt == "JPEG" else {
                "quality": quality, "method": 6}
            result = encode(image, fmt, **options)
            if len(result) <= LIMIT or quality <= 45:
                break
            quality = max(quality - 10, 45)
    else:
        result = encode(image, "PNG", optimize=True)
        if len(result) > LIMIT and "A" not in image.getbands() and "transparency" not in image.info:
            rgb = image.convert("RGB")
            for colours in (256, 128, 64, 32):
                result = encode(rgb.quantize(colors=colours), "PNG", optimize=True)
                quality = colours
                if len(result) <= LIMIT:
                    break
    compressed = len(result) < len(upload)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{seconds:.3f} {peak:.1f} {len(result) if compressed else len(upload)} "
          f"{int(compressed)} {quality}")


def thumbnail(path, side, out):
    start = time.perf_counter()
    image = Image.open(path)
    image.draft("RGB", (side, side))
    image = ImageOps.exif_transpose(image)
    image.thumbnail((side, side))
    image.save(out, "JPEG", quality=80)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{seconds:.3f} {peak:.1f} {len(open(out, 'rb').read())}")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "thumbnail":
        thumbnail(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        compress(sys.argv[2])

#!/usr/bin/env python3
"""Watches the X screen until it shows rendered content, for bench/app-start.sh.

Prints "ready" once connected, then polls the root window every 10 ms and, on the first poll
whose picture has more than THRESHOLD distinct colours (a blank root or an unpainted window has a
handful; a drawn page with anti-aliased text has hundreds), prints that poll's start time
(seconds since the epoch); then, once the screen has not changed for a second, the start of
the last poll that saw it change (the page complete: data, later chunks), and exits 0. Exits 1
if nothing was drawn within TIMEOUT seconds. One process and one
reused image, through libX11 by ctypes (nothing to install): ~5 ms of CPU a poll, where an
ImageMagick capture took ~80 ms and most of a core while the app it measured was starting.

Colours are counted on every 4th pixel of every 4th row (the picture at a quarter of its size,
as the earlier `import -resize 25%` check looked at it, without its blending).

usage: screen-watch.py [THRESHOLD=64] [TIMEOUT=30] [FIRST.ppm: the first picture judged drawn]
"""

import ctypes
import ctypes.util
import sys
import time

Z_PIXMAP = 2
ALL_PLANES = ctypes.c_ulong(~0 & 0xFFFFFFFFFFFFFFFF)
SETTLE_S = 1.0


class XImage(ctypes.Structure):
    # The leading fields of Xlib's XImage (X11/Xlib.h), as far as this script reads them.
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int),
        ("data", ctypes.c_void_p),
        ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int),
    ]


def main() -> int:
    threshold = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    shot_path = sys.argv[3] if len(sys.argv) > 3 else ""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XGetImage.restype = ctypes.POINTER(XImage)
    x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                              ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x11.XGetSubImage.restype = ctypes.POINTER(XImage)
    x11.XGetSubImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.POINTER(XImage), ctypes.c_int, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    if not display:
        print("screen-watch: cannot open the X display", file=sys.stderr)
        return 2
    root = x11.XDefaultRootWindow(display)
    width, height = x11.XDisplayWidth(display, 0), x11.XDisplayHeight(display, 0)
    image = x11.XGetImage(display, root, 0, 0, width, height, ALL_PLANES, Z_PIXMAP)
    if not image or image.contents.bits_per_pixel != 32:
        print("screen-watch: needs a 24/32-bit screen", file=sys.stderr)
        return 2
    img = image.contents
    size = img.bytes_per_line * img.height
    print("ready", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shot = time.time()
        x11.XGetSubImage(display, root, 0, 0, width, height, ALL_PLANES, Z_PIXMAP, image, 0, 0)
        data = memoryview(ctypes.string_at(img.data, size))
        colours: set[int] = set()
        for y in range(0, img.height, 4):
            row = data[y * img.bytes_per_line: y * img.bytes_per_line + width * 4].cast("I")
            colours.update(row[::4])
            if len(colours) > threshold:
                print(f"{shot:.6f}", flush=True)
                if shot_path:
                    save_ppm(shot_path, data, img, width, height)
                return settle(x11, display, root, width, height, image, size, deadline)
        time.sleep(0.01)
    return 1


def save_ppm(path, data, img, width, height) -> None:
    """The picture as a binary PPM (BGRX pixels of a little-endian 24-bit screen to RGB)."""
    rows = bytearray()
    for y in range(height):
        row = data[y * img.bytes_per_line: y * img.bytes_per_line + width * 4]
        rgb = bytearray(width * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = row[2::4], row[1::4], row[0::4]
        rows += rgb
    with open(path, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (width, height) + bytes(rows))


def settle(x11, display, root, width, height, image, size, deadline) -> int:
    """After the first picture: the start of the last poll whose picture differed from the one
    before, once the screen has held still for SETTLE_S (the page as the user gets it: its data
    drawn, its chunks loaded); printed as the second time."""
    img = image.contents
    last_change, last = time.time(), b""
    while time.monotonic() < deadline:
        shot = time.time()
        x11.XGetSubImage(display, root, 0, 0, width, height, ALL_PLANES, Z_PIXMAP, image, 0, 0)
        picture = ctypes.string_at(img.data, size)
        if picture != last:
            last, last_change = picture, shot
        elif shot - last_change >= SETTLE_S:
            break
        time.sleep(0.01)
    print(f"{last_change:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

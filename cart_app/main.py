"""`cart-app`: the shopper's touchscreen, connected to cartd over its local API.

    cart-app [--socket PATH | --connect HOST:PORT] [--size 800x480] [--fullscreen]
             [--screenshot PATH --exit-after S] [--bench-log] [--verbose]

With --screenshot the app renders off screen (unless SDL_VIDEODRIVER says otherwise), saves a
PNG of the window after --exit-after seconds and exits; the exit code is 0 only if it reached
cartd. --bench-log prints the monotonic time of the first frame and of each frame that shows a new
total, for tools/bench_app.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from cart_app.client import DEFAULT_SOCKET, Address, parse_connect

EXIT_NEVER_CONNECTED = 3


def parse_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 320 or int(height) < 240:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT of at least 320x240, got {text!r}")
    return int(width), int(height)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cart-app", description="The smart cart's touchscreen app.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--socket", metavar="PATH", help=f"cartd's socket (default $CARTD_SOCKET or {DEFAULT_SOCKET})")
    where.add_argument("--connect", metavar="HOST:PORT", type=_connect_arg, help="cartd over TCP (paired phone/laptop)")
    parser.add_argument("--size", type=parse_size, default=(800, 480), metavar="WxH", help="window size (800x480)")
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen (the cart's kiosk mode)")
    parser.add_argument("--screenshot", type=Path, metavar="PATH", help="save a PNG of the screen, then exit")
    parser.add_argument("--exit-after", type=float, metavar="S", help="exit after S s (3 with --screenshot)")
    parser.add_argument("--bench-log", action="store_true", help="print frame timings for tools/bench_app.py")
    parser.add_argument("--verbose", action="store_true", help="Kivy's log on the console")
    return parser


def _connect_arg(text: str) -> Address:
    try:
        return parse_connect(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.exit_after is not None and args.exit_after <= 0:
        print("cart-app: --exit-after must be positive", file=sys.stderr)
        return 2
    if args.connect is not None:
        address = args.connect
    else:
        address = Address(path=args.socket or os.environ.get("CARTD_SOCKET") or DEFAULT_SOCKET)
    exit_after_s = args.exit_after if args.exit_after is not None else (3.0 if args.screenshot else None)

    os.environ["KIVY_NO_ARGS"] = "1"  # our arguments are not Kivy's
    os.environ.setdefault("KIVY_IMAGE", "sdl2")  # PNG/JPEG through SDL2_image: no PIL, numpy or ffpyplayer loaded
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")  # no probing for xclip/xsel
    if not args.verbose:
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    if args.screenshot is not None:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    configure_window(*args.size, fullscreen=args.fullscreen)

    from kivy.clock import Clock

    from cart_app.app import CartApp
    from cart_app.frames import FrameLog

    app = CartApp(address)
    outcome = {"saved": None}
    if args.bench_log:
        FrameLog(app).attach()
    if exit_after_s is not None:

        def finish(_dt: float) -> None:
            if args.screenshot is not None:
                outcome["saved"] = save_screenshot(args.screenshot)
            app.stop()

        Clock.schedule_once(finish, exit_after_s)
    app.run()
    if args.screenshot is not None:
        if outcome["saved"] is None:
            print(f"cart-app: no screenshot saved to {args.screenshot}", file=sys.stderr)
            return 1
        print(f"cart-app: screenshot saved to {outcome['saved']}")
    if exit_after_s is not None and not app.link.ever_connected:
        print(f"cart-app: never connected to cartd at {address}", file=sys.stderr)
        return EXIT_NEVER_CONNECTED
    return 0


def configure_window(width: int, height: int, *, fullscreen: bool = False) -> None:
    """Window size and input before Kivy opens its window (call before importing kivy.core.window)."""
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red dots on right-click
    Config.set("kivy", "exit_on_escape", "0")


def save_screenshot(path: Path) -> Path | None:
    """Draw the current frame and save it as PNG at exactly `path` (Kivy's own call numbers its files)."""
    from kivy.core.window import Window

    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    Window.dispatch("on_draw")  # render into the back buffer, which is what glReadPixels reads
    numbered = Window.screenshot(name=str(path.with_name(f".{path.stem}-{time.monotonic_ns()}.png")))
    if not numbered:
        return None
    os.replace(numbered, path)
    return path


if __name__ == "__main__":
    sys.exit(main())

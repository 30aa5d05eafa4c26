"""One measure in a process of its own: `python -m bench.run MEASURE [options] [--json PATH]`.

`python -m bench` (bench/__main__.py) starts one of these per measure and
scale, so that each has its own database connection and settings (Django
reads them once per process) and its own peak memory. Run one by hand while
working on it, through the embedded services:

    python -m config.embedded exec -- python -m bench.run pages --scale 1 --duration 3
    python -m config.embedded exec -- python -m bench.run search --scale 5
    python -m config.embedded exec -- python -m bench.run ingest --repeat 3
    python -m config.embedded exec -- python -m bench.run upload --sizes 50,100
    python -m config.embedded exec -- python -m bench.run publishing --posts 20
    python -m config.embedded exec -- python -m bench.run video --clip-seconds 10,60
    python -m config.embedded exec -- python -m bench.run network --pool-items 10000 --searches 50
    python -m config.embedded exec -- python -m bench.run data --scale 5
    python -m config.embedded exec -- python -m bench.run profile --scale 1 --path /plan/ --repeat 30

The measure's figures are printed as JSON, or written to --json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from bench.environment import NETWORK_DATABASE, WORK_DATABASE, free_port, scale_database, setup

# measure → (module, its database, whether gunicorn serves static files in it)
MEASURES: dict[str, tuple[str, str | None, bool]] = {
    "data": ("bench.data", None, False),
    "pages": ("bench.pages", None, True),
    "search": ("bench.search", None, True),
    "ingest": ("bench.ingest", WORK_DATABASE, False),
    "upload": ("bench.upload", WORK_DATABASE, True),
    "publishing": ("bench.pipeline", WORK_DATABASE, True),
    "profile": ("bench.profile", None, True),
    "video": ("bench.video", WORK_DATABASE, False),
    "network": ("bench.network", NETWORK_DATABASE, False),
}


def _numbers(text: str) -> list[int]:
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from exc
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("give whole numbers of at least 1")
    return numbers


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("measure", choices=sorted(MEASURES))
    p.add_argument("--json", type=Path, help="write the figures here instead of printing them")
    p.add_argument("--scale", type=positive, default=1, help="data scale (pages, search, data)")
    p.add_argument("--duration", type=positive, default=10, help="seconds of load per page or query (default 10)")
    p.add_argument("--connections", type=positive, default=16, help="concurrent connections (default 16)")
    p.add_argument("--workers", type=positive, default=3, help="gunicorn workers (default 3, as in the Dockerfile)")
    p.add_argument("--repeat", type=positive, default=10, help="images per ingest variant (default 10)")
    p.add_argument("--searches", type=positive, default=200, help="calls per search query, in-process (default 200)")
    p.add_argument("--sizes", type=_numbers, default=[50, 125, 250, 500], help="upload sizes in MB")
    p.add_argument("--posts", type=positive, default=40, help="posts through the publishing pipeline (default 40)")
    p.add_argument("--clip-seconds", type=_numbers, default=[10, 60], help="video clip lengths (video)")
    p.add_argument("--pool-items", type=positive, default=10_000, help="items each county shares (network)")
    p.add_argument("--borrows", type=positive, default=30, help="items borrowed, timed (network)")
    p.add_argument("--path", default="/", help="the page to profile (profile)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    module_name, database, static = MEASURES[args.measure]
    port = free_port()
    env = setup(database or scale_database(args.scale), port=port, collectstatic=static)
    module: Any = importlib.import_module(module_name)
    figures = module.measure(args.scale) if args.measure == "data" else module.measure(args, env, port)
    output = json.dumps(figures, indent=2, ensure_ascii=False, default=str)
    if args.json:
        args.json.write_text(output + "\n")
    else:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

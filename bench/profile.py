"""Where a page's time goes: pyinstrument over repeated requests, in-process, on a bench scale.

    python -m config.embedded exec -- python -m bench.run profile --scale 5 --path /plan/ [--repeat 50]

Prints pyinstrument's call tree and writes its HTML view under
var/bench/profiles/. The requests go through Django's test client as county
1's coordinator, with the production settings the other measures use; the
load is whatever scale's database is asked for (loaded first if needed).
Each is the first request after a write (the data version moved before it):
what a page keeps until then (libraries.http.kept_part) would hide its work.
A diagnostic, not part of `make bench`.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from django.test import Client
from pyinstrument import Profiler

from bench import data
from bench.environment import BENCH_VAR
from libraries.versions import move_data_version


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    data.load(args.scale)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(data.bench_user())
    for _ in range(3):  # warm: templates compiled, connections open, session cached
        status = client.get(args.path).status_code
    if status != 200:
        raise SystemExit(f"GET {args.path} answered {status}")
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(args.repeat):
            move_data_version()
            client.get(args.path)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    directory = BENCH_VAR / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{re.sub(r'[^a-z0-9]+', '-', args.path.lower()).strip('-') or 'home'}-s{args.scale}.html"
    target.write_text(profiler.output_html())
    return {"path": args.path, "scale": args.scale, "requests": args.repeat, "html": str(target)}

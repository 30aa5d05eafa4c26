"""python -m fakegraph --port N [--state-file path] [...]: see the package docstring."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType

from fakegraph.graph import FakeGraph
from fakegraph.server import GraphServer
from fakegraph.state import Config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fakegraph", description="A fake Instagram Graph API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed on start)")
    parser.add_argument("--state-file", type=Path, help="keep the state here as JSON, across restarts")
    parser.add_argument("--token", default="fake-token", help="a long-lived token the fake accepts from the start")
    parser.add_argument("--app-id", help="OAuth calls must name this app (default: any)")
    parser.add_argument("--app-secret", help="OAuth calls must give this secret (default: any)")
    parser.add_argument("--video-polls", type=int, default=2, help="status reads a video stays IN_PROGRESS")
    parser.add_argument("--publish-quota", type=int, default=50, help="posts per account per 24 hours")
    parser.add_argument("--call-budget", type=int, help="calls per account per hour before throttling")
    parser.add_argument("--download-timeout", type=float, default=10.0, help="seconds to fetch a media URL")
    parser.add_argument("--webhook-url", help="POST a signed `comments` webhook here for every new comment")
    parser.add_argument(
        "--audience-after", type=float, help="a follower comments on each new post this many seconds after it"
    )
    parser.add_argument("--verbose", action="store_true", help="log each request (paths only) to stderr")
    args = parser.parse_args(argv)

    defaults = Config(
        video_polls=args.video_polls,
        publish_quota=args.publish_quota,
        call_budget=args.call_budget,
        download_timeout=args.download_timeout,
        app_id=args.app_id,
        app_secret=args.app_secret,
        webhook_url=args.webhook_url,
        audience_after=args.audience_after,
    )
    fake = FakeGraph(state_file=args.state_file, defaults=defaults, token=args.token)
    server = GraphServer((args.host, args.port), fake, verbose=args.verbose)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    # The first line of output says where to find the fake (tests read it with --port 0).
    print(f"fake_graph listening on http://{host!s}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()

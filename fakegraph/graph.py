"""The fake Graph API: all its rules on one state; `server.py` speaks HTTP in front of it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fakegraph.containers import ContainerRules
from fakegraph.engagement import EngagementRules
from fakegraph.login import LoginRules
from fakegraph.state import DAY


class FakeGraph(ContainerRules, EngagementRules, LoginRules):
    """One fake Graph API. Every method takes the lock itself; none holds it while downloading."""

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            state = self.state
            now = self.now()
            per_user: dict[str, int] = {}
            for media in state.media.values():
                per_user[media.ig_user_id] = per_user.get(media.ig_user_id, 0) + 1
            return {
                "now": now,
                "config": asdict(state.config),
                "accounts": [
                    asdict(a)
                    | {
                        "published_last_24h": self._published_since(a.ig_user_id, now - DAY),
                        "containers_last_24h": sum(
                            1
                            for c in state.containers.values()
                            if c.ig_user_id == a.ig_user_id and c.created_at > now - DAY
                        ),
                    }
                    for a in state.accounts.values()
                ],
                "containers": [self._container_row(c) for c in state.containers.values()],
                "media": [asdict(m) | {"permalink": self._media_object(m)["permalink"]} for m in state.media.values()],
                "comments": [asdict(c) for c in state.comments.values()],
                "publish_count": per_user,
                "calls": dict(state.calls),
                "faults": [asdict(f) for f in state.faults],
                "webhook_deliveries": [dict(d) for d in state.webhook_deliveries],
                "tokens": [
                    {"token": t.token, "state": t.state, "expires_at": t.expires_at, "kind": t.kind}
                    for t in state.tokens.values()
                ],
            }

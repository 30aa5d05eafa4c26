"""A fake Instagram Graph API (Facebook Login host) for `make run` and the tests.

    python -m fakegraph --port 8765 [--state-file var/fake_graph.json]
        [--token fake-token] [--app-id ID --app-secret SECRET] [--video-polls 2]
        [--publish-quota 50] [--call-budget N] [--download-timeout 10] [--verbose]
        [--webhook-url URL] [--audience-after SECONDS]

With `--port 0` it picks a free port; the first line it prints is
`fake_graph listening on http://HOST:PORT`. It imports nothing from Django.

Graph routes, under `/{vX.Y}/` (any version, or none), with the token in the
query, the form or JSON body, or an `Authorization: Bearer|OAuth` header:
`GET /me`, `GET /me/accounts`, `GET /debug_token`, `GET|POST /oauth/access_token`
(login code, or `grant_type=fb_exchange_token`), `GET /dialog/oauth` (approves at
once and redirects), `GET /{ig-user-id}`, `POST|GET /{ig-user-id}/media`,
`POST /{ig-user-id}/media_publish`, `GET /{ig-user-id}/content_publishing_limit`,
`GET /{container-id}`, `GET /{media-id}`, `GET /{media-id}/collaborators`,
`GET /{media-id}/insights`, `GET|POST /{media-id}/comments`,
`GET|POST /{comment-id}/replies`, `GET /{comment-id}`.

It checks what Instagram checks (caption, hashtags, @tags, collaborators,
carousel size, media types) and downloads the media URL it is given: images
must be JPEG, at most 8 MiB, 4:5 to 1.91:1 (errors from the create call);
videos are probed with PyAV (MP4/MOV, H.264/HEVC, 3 s to 15 min for reels,
3-60 s for carousel items) and stay IN_PROGRESS for `video_polls` status reads
before FINISHED or ERROR. Containers expire after 24 hours on the fake's
clock; 400 containers and 50 posts per account per 24 hours.

Control routes (JSON in and out), for tests:

    GET    /_fake/state        everything: containers (with status), media, comments,
                               publish_count per account, calls per route, tokens, faults
    POST   /_fake/reset        {"config": {...}?}: back to the start (ids keep counting up)
    POST   /_fake/config       {"video_polls": 0, "publish_quota": 1, "call_budget": 3, ...} (see state.Config)
    GET    /_fake/clock        {"now": epoch, "offset": seconds}
    POST   /_fake/clock        {"advance": seconds} or {"now": epoch}
    POST   /_fake/faults       {"route": "publish", "kind": "error|status|hang|drop", "times": 1, "skip": 0, ...}
    GET    /_fake/faults       the queue;  DELETE /_fake/faults empties it
    POST   /_fake/tokens       {"token": "...", "state": "valid|revoked|expired", "subcode": 460, "expires_in": s}
                               (revoked: 190/460, or the subcode given, e.g. 458; expired: 190/463 with
                               Meta's "Session has expired on …. The current time is …")
    POST   /_fake/accounts     {"username": "...", "ig_user_id": "..."?}: another Instagram account
    POST   /_fake/comments     {"media_id": "...", "count": 120, "text": "...", "username": "...", "parent_id": ...,
                                "created_at": epoch?}
    POST   /_fake/media        {"caption": "...", "published_at": epoch?, "shortcode": "..."?, "media_type": "IMAGE"?,
                                "ig_user_id": "..."?}: a media published before the fake began (the demo's)
    POST   /_fake/collaborators {"media_id": "...", "username": "..."?, "invite_status": "Accepted|Declined|Pending"}
    POST   /_fake/insights     {"media_id": "...", "values": {"reach": 10, ...}}
    POST   /_fake/followers    {"followers_count": 1300, "ig_user_id": "..."?}: the account's followers
    POST   /_fake/delete       {"id": "..."}: a media or comment deleted on Instagram
    POST   /_fake/containers   {"id": "...", "status_code": "ERROR", "subcode": 2207082}: force a status

The demo's audience: with `audience_after` (`--audience-after`), a follower
comments on each post that many seconds after it is published.

Webhooks: with `webhook_url` configured (`--webhook-url`), every comment added (through the
Graph API or the control API) is POSTed there as Meta's `comments`
notification, signed with `X-Hub-Signature-256` (HMAC-SHA256 of the body with
`webhook_secret`, else the app secret), in the Facebook Login shape
(`entry[].changes[]`) or, with `webhook_shape: "instagram"`, the Instagram
Login shape (`field`/`value` in the entry). Deliveries and their answers are
listed in the state (`webhook_deliveries`). `GET /{media-id}/comments` also
expands `replies{…}` (field expansion), each with its own cursor paging.

Fault kinds: `error` answers a Graph error (`code`, `subcode`, `message`,
`user_title`, `user_msg`, `is_transient`, `http_status`, `regain_minutes` for
the usage header; what is left out is what Meta sends for the code: 1 and 2
transient, 9/2207042 the daily limit, 190/463 an expired token, the throttles);
`status` answers HTTP `status` with a plain `body`; `hang` waits `seconds`
first; `drop` closes the connection without an answer. With `"apply": true` a
hang or drop still carries the call out (the answer is what is lost), else
nothing happens. Route names: me, accounts, debug_token,
oauth_access_token, ig_user, create_container, list_media, publish,
publishing_limit, container_status, media, collaborators, insights, comments,
create_comment, replies, reply, comment, or "*" for any.
"""

"""What publishing does when production's media change (settings.MEDIA_CHANGED_HOOKS).

Production does not import publishing; it calls the hooks registered in
settings with a `MediaChange`, in its own transaction.
"""

from __future__ import annotations

from libraries.services import absolute_url
from production.services.media import MediaChange
from publishing.archive.filing import refresh_for_assets
from publishing.posts.services import pull_back_posts_showing


def media_changed(change: MediaChange) -> None:
    """Posts showing people whose consent lapsed go back to review; the archive's copies are refreshed."""
    if change.lapsed_reason:
        pulled = pull_back_posts_showing(
            asset_ids=change.asset_ids, reason=change.lapsed_reason, by=change.by, notify=change.tell_coordinators
        )
        # The caller tells the coordinators in its own single e-mail (production's consent_lapsed), one
        # per county: posts made from borrowed copies belong to the borrowing counties' e-mails.
        for post in pulled:
            line = (str(post), absolute_url(post.get_absolute_url()))
            if change.county_id is None or post.county_id == change.county_id:
                change.pulled_back.append(line)
            else:
                change.pulled_back_elsewhere.setdefault(post.county_id, []).append(line)
    refresh_for_assets(change.asset_ids)

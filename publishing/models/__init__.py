"""Publishing's state: posts and their channel, the archive, and what followed publishing."""

from publishing.models.followup import (
    AccountSnapshot,
    InsightSnapshot,
    InstagramComment,
    InstagramCommentQuerySet,
    Outcome,
)
from publishing.models.posts import (
    Approval,
    ArchiveItem,
    ArchiveItemQuerySet,
    ArchiveReuse,
    ArchiveWord,
    Channel,
    ChannelQuerySet,
    ConceptRepost,
    Post,
    PostAsset,
    PostCollaborator,
    PostQuerySet,
    reusable_condition,
)

__all__ = [
    "AccountSnapshot",
    "Approval",
    "ArchiveItem",
    "ArchiveItemQuerySet",
    "ArchiveReuse",
    "ArchiveWord",
    "Channel",
    "ChannelQuerySet",
    "ConceptRepost",
    "InsightSnapshot",
    "InstagramComment",
    "InstagramCommentQuerySet",
    "Outcome",
    "Post",
    "PostAsset",
    "PostCollaborator",
    "PostQuerySet",
    "reusable_condition",
]

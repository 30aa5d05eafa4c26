"""Publishing's state: the Instagram channel, posts, the archive, and what followed publishing."""

from publishing.models.archive import (
    ArchiveItem,
    ArchiveItemQuerySet,
    ArchiveReuse,
    ArchiveWord,
    ConceptRepost,
    TitleWords,
    reusable_condition,
)
from publishing.models.followup import (
    AccountSnapshot,
    InsightSnapshot,
    InstagramComment,
    InstagramCommentQuerySet,
    Outcome,
)
from publishing.models.instagram import (
    Channel,
    ChannelQuerySet,
)
from publishing.models.network import (
    Borrow,
    PostElsewhere,
    SharedItem,
    SharedItemQuerySet,
    posts_elsewhere,
    shareable_condition,
)
from publishing.models.posts import (
    Approval,
    Post,
    PostAsset,
    PostCollaborator,
    PostQuerySet,
    gate_reads,
)

__all__ = [
    "AccountSnapshot",
    "Approval",
    "ArchiveItem",
    "ArchiveItemQuerySet",
    "ArchiveReuse",
    "ArchiveWord",
    "Borrow",
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
    "PostElsewhere",
    "PostQuerySet",
    "SharedItem",
    "SharedItemQuerySet",
    "TitleWords",
    "gate_reads",
    "posts_elsewhere",
    "reusable_condition",
    "shareable_condition",
]

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from libraries.models import User
from publishing.models import (
    Approval,
    ArchiveItem,
    ArchiveReuse,
    Channel,
    ConceptRepost,
    InsightSnapshot,
    InstagramComment,
    Outcome,
    Post,
    PostAsset,
    PostCollaborator,
)
from publishing.posts import services


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin[Channel]):
    list_display = ("county", "kind", "username", "status", "token_expires_at")
    list_filter = ("kind", "status")
    # The token is never shown, not even encrypted; statuses move through publishing/services.py.
    exclude = ("token_ciphertext",)
    readonly_fields = ("status", "status_reason", "token_expires_at", "token_refreshed_at", "expiry_warning_sent_at")


class PostAssetInline(admin.TabularInline[PostAsset, Post]):
    model = PostAsset
    extra = 0
    raw_id_fields = ("asset",)


class PostCollaboratorInline(admin.TabularInline[PostCollaborator, Post]):
    model = PostCollaborator
    extra = 0
    readonly_fields = ("invite_status", "checked_at")


class ApprovalInline(admin.TabularInline[Approval, Post]):
    model = Approval
    extra = 0
    readonly_fields = ("by", "at", "withdrawn_at", "withdrawn_reason")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ("title", "county", "status", "scheduled_at", "publish_step")
    list_filter = ("county", "status", "media_kind")
    search_fields = ("title", "caption")
    raw_id_fields = ("idea", "recording_day", "concept", "responsible", "created_by", "last_edited_by", "channel")
    # Statuses and the worker's state move only through publishing/services.py and publish.py.
    readonly_fields = (
        "status",
        "status_changed_at",
        "failure_reason",
        "publish_step",
        "child_container_ids",
        "container_id",
        "containers_created_at",
        "publish_attempts",
        "media_id",
        "permalink",
        "published_at",
        "attempts",
        "rate_limit_waits",
        "container_rounds",
        "status_polls",
        "next_attempt_at",
        "waiting_for",
        "waiting_since",
        "lease_expires_at",
        "lease_token",
        "last_error",
        "collaborators_checked_at",
    )
    inlines = (PostAssetInline, PostCollaboratorInline, ApprovalInline)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """A change to what the approval covered (the caption, the media, the collaborators), made here as
        anywhere else, sends an approved or scheduled post back to review (publishing/posts/services.py)."""
        super().save_related(request, form, formsets, change)
        if not change:
            return
        fields = sorted(set(form.changed_data) & services.CONTENT_FIELDS)
        for formset in formsets:
            if formset.model in (PostAsset, PostCollaborator) and formset.has_changed():
                fields.append("assets" if formset.model is PostAsset else "collaborators")
        if fields and isinstance(request.user, User):
            services.return_to_review_after_admin_change(by=request.user, post=form.instance, fields=fields)


class ArchiveReuseInline(admin.TabularInline[ArchiveReuse, ArchiveItem]):
    model = ArchiveReuse
    extra = 0
    raw_id_fields = ("post", "by")
    readonly_fields = ("via", "at")


@admin.register(ArchiveItem)
class ArchiveItemAdmin(admin.ModelAdmin[ArchiveItem]):
    list_display = ("title", "county", "content_type", "media_kind", "source", "reuse_count", "published_at")
    list_filter = ("county", "content_type", "media_kind", "source", "reuse_blocked")
    search_fields = ("title", "caption")
    raw_id_fields = ("asset", "post", "concept", "archived_by")
    filter_horizontal = ("libraries",)
    # The copies are written by publishing.archive.filing.refresh_items (the `refresh_archive` command rebuilds them).
    readonly_fields = (
        "people_count",
        "reuse_blocked",
        "consent_valid_until",
        "reuse_count",
        "last_reused_at",
        "library_ids",
    )
    inlines = (ArchiveReuseInline,)


@admin.register(ConceptRepost)
class ConceptRepostAdmin(admin.ModelAdmin[ConceptRepost]):
    list_display = ("concept", "occurs_at", "post", "item", "created_at")
    list_filter = ("concept__county",)
    raw_id_fields = ("concept", "post", "item")


@admin.register(InsightSnapshot)
class InsightSnapshotAdmin(admin.ModelAdmin[InsightSnapshot]):
    list_display = ("post", "round", "taken_at", "reach", "views", "likes", "comments")
    list_filter = ("round",)
    raw_id_fields = ("post",)


@admin.register(InstagramComment)
class InstagramCommentAdmin(admin.ModelAdmin[InstagramComment]):
    list_display = ("username", "post", "commented_at", "status", "from_account", "via")
    list_filter = ("county", "status", "from_account", "via")
    search_fields = ("username", "text")
    raw_id_fields = ("post", "parent", "replied_by", "handled_by")


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin[Outcome]):
    list_display = ("post", "library", "kind", "quantity", "happened_on")
    list_filter = ("kind",)
    raw_id_fields = ("post", "library", "logged_by")

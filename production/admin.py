from django.contrib import admin
from django.http import HttpRequest

from production.models import (
    Asset,
    AssetPerson,
    CalendarFeed,
    Concept,
    Consent,
    Idea,
    IdeaAttachment,
    IdeaComment,
    Person,
    PresenterSignup,
    RecordingDay,
    RunSheetSlot,
)


@admin.register(Concept)
class ConceptAdmin(admin.ModelAdmin[Concept]):
    list_display = ("name", "county", "content_type", "cadence_rule", "is_active")
    list_filter = ("county", "content_type", "is_active")
    search_fields = ("name",)


class IdeaAttachmentInline(admin.TabularInline[IdeaAttachment, Idea]):
    model = IdeaAttachment
    extra = 0


class IdeaCommentInline(admin.TabularInline[IdeaComment, Idea]):
    model = IdeaComment
    extra = 0


@admin.register(Idea)
class IdeaAdmin(admin.ModelAdmin[Idea]):
    list_display = ("title", "library", "content_type", "status", "created_at")
    list_filter = ("library__county", "status", "content_type")
    search_fields = ("title", "pitch")
    raw_id_fields = ("library", "submitted_by", "concept", "reviewed_by")
    filter_horizontal = ("libraries",)
    # Statuses move through production/services.py, which writes the audit log.
    readonly_fields = ("status", "reviewed_by", "reviewed_at")
    inlines = (IdeaAttachmentInline, IdeaCommentInline)


class SlotInline(admin.TabularInline[RunSheetSlot, RecordingDay]):
    model = RunSheetSlot
    extra = 0
    raw_id_fields = ("idea",)
    readonly_fields = ("recorded_at",)


class SignupInline(admin.TabularInline[PresenterSignup, RecordingDay]):
    model = PresenterSignup
    extra = 0
    raw_id_fields = ("person", "signed_up_by")


@admin.register(RecordingDay)
class RecordingDayAdmin(admin.ModelAdmin[RecordingDay]):
    list_display = ("date", "county", "host_library", "status")
    list_filter = ("county", "status")
    date_hierarchy = "date"
    raw_id_fields = ("host_library",)
    filter_horizontal = ("responsible", "participating_libraries")
    readonly_fields = ("status", "announced_at", "announcement_sent_at", "reminder_sent_at", "done_at")
    inlines = (SlotInline, SignupInline)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin[CalendarFeed]):
    list_display = ("user", "created_at", "last_fetched_at")
    exclude = ("token_hash",)


# --- Media: assets, the people shown and their consent ---


class ConsentInline(admin.TabularInline[Consent, Person]):
    model = Consent
    extra = 0
    # Consents change through production/asset_services.py, which writes the audit log
    # and tells the coordinators; the admin only shows them.
    readonly_fields = (
        "covers_publishing",
        "covers_archive_reuse",
        "covers_sharing",
        "given_at",
        "valid_until",
        "given_by",
        "person_is_minor",
        "evidence",
        "evidence_note",
        "digital_record",
        "recorded_by",
        "withdrawn_at",
        "withdrawal_note",
        "lapse_handled_at",
    )
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        return False


class AssetPersonInline(admin.TabularInline[AssetPerson, Asset]):
    model = AssetPerson
    extra = 0
    raw_id_fields = ("person",)


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin[Asset]):
    list_display = ("__str__", "county", "library", "kind", "status", "created_at")
    list_filter = ("county", "kind", "status")
    search_fields = ("title", "original_name", "alt_text", "credit_line")
    raw_id_fields = ("library", "idea", "recording_day", "uploaded_by")
    # Files and statuses are the worker's and asset_services.py's.
    readonly_fields = (
        "uid",
        "county",
        "original",
        "original_name",
        "kind",
        "mime_type",
        "file_size",
        "width",
        "height",
        "duration",
        "info",
        "status",
        "processing_error",
        "thumbnail",
        "rendition",
        "poster",
        "renditions",
        "instagram_check",
        "subtitles",
        "consent_lapsed_at",
        # Confirmed on the asset's page only (asset_services.confirm_no_people), where it is audited.
        "no_people_confirmed_at",
        "no_people_confirmed_by",
    )
    inlines = (AssetPersonInline,)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    """The register; erasing and merging are the register pages' audited actions."""

    list_display = ("name", "category", "county")
    list_filter = ("county", "category")
    search_fields = ("name",)
    inlines = (ConsentInline,)

    def has_delete_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        return False

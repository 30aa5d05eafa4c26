from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from libraries.models import AuditEntry, County, Invitation, Library, Membership, User


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0
    autocomplete_fields = ("library",)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    ordering = ("email",)
    list_display = ("email", "name", "is_active", "is_superuser", "is_network_moderator", "last_login")
    list_filter = ("is_network_moderator", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "name")
    fieldsets = (
        (None, {"fields": ("email", "name", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "is_network_moderator")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    inlines = (MembershipInline,)


@admin.register(County)
class CountyAdmin(admin.ModelAdmin[County]):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin[Library]):
    list_display = ("name", "county", "kind", "municipality", "instagram_username", "is_active")
    list_filter = ("county", "kind", "is_active")
    search_fields = ("name", "municipality", "instagram_username")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "library", "role", "sent_at", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("role", "library__county")
    search_fields = ("email",)
    exclude = ("token_hash",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ("at", "county", "actor", "action", "summary")
    list_filter = ("county", "action")
    search_fields = ("summary", "object_id")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the audit log is append-only

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

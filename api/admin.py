"""Admin for token families (read-only; revoke is the one action) and notes."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from api import services
from api.models import Note, TokenFamily


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "name",
        "origin",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    ]
    list_filter = ["origin", "revoked_reason"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "name"]
    ordering = ["-created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TokenFamily | None = None) -> bool:
        return False

    @admin.action(description="Revoke the selected token families", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[TokenFamily]) -> None:
        families = list(queryset.filter(revoked_at__isnull=True))
        for family in families:
            services.token_family_revoke(
                family=family, reason=TokenFamily.RevokeReason.REVOKED, actor=request.user
            )
        messages.success(request, f"Revoked {len(families)} token families.")


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "created_at", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["title", "owner__username", "owner__email"]
    raw_id_fields = ["owner"]

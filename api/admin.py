"""Admin for token families (read-only; revoke is the one action) and notes, and the user page's
API tokens: the accounts app's user admin, with the tokens inline and a revoke-all action.

OAuth clients are registered under allauth's "OpenID Connect IdP > Clients" (api.clients). Its
"Tokens" list is taken away: allauth's own token endpoint is not routed, so that table stays
empty, and the API's tokens are the families here.
"""

from allauth.idp.oidc.models import Token as AllauthOidcToken
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import ReadOnlyInline
from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from api import services
from api.models import Note, TokenFamily


class TokenFamilyInline(ReadOnlyInline):
    model = TokenFamily
    fields = (
        "name",
        "origin",
        "client_id",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    verbose_name = "API token"
    show_change_link = False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AccountsUserAdmin):
    inlines = [*AccountsUserAdmin.inlines, TokenFamilyInline]
    actions = [*AccountsUserAdmin.actions, "revoke_tokens"]

    @admin.action(description="Revoke every API token")
    def revoke_tokens(self, request, queryset) -> None:
        revoked = sum(
            services.user_tokens_revoke_all(user=user, actor=request.user) for user in queryset
        )
        self.message_user(request, f"{revoked} API token(s) revoked.", messages.SUCCESS)


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "name",
        "origin",
        "client_id",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    ]
    list_filter = ["origin", "client_id", "revoked_reason"]
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


admin.site.unregister(AllauthOidcToken)

"""Django admin for people and for the sign-in providers' registered applications."""

from allauth.socialaccount.admin import SocialAppAdmin as AllauthSocialAppAdmin
from allauth.socialaccount.admin import SocialAppForm as AllauthSocialAppForm
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.admin import UserSessionAdmin as AllauthUserSessionAdmin
from allauth.usersessions.models import UserSession
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from accounts import services
from accounts.models import AuditEvent, OAuthFlowRecord, User


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SocialAccountInline(ReadOnlyInline):
    model = SocialAccount
    fields = ("provider", "uid", "last_login", "date_joined")
    readonly_fields = fields
    verbose_name = "connected account"


class UserSessionInline(ReadOnlyInline):
    model = UserSession
    fields = ("created_at", "last_seen_at", "ip", "user_agent")
    readonly_fields = fields
    verbose_name = "open session"
    show_change_link = False


class PasswordChangeForm(AdminPasswordChangeForm):
    """Admin's "change password" form, through the account service like every password change."""

    def save(self, commit: bool = True) -> User:
        services.user_password_set(user=self.user, password=self.cleaned_data["password1"])
        return self.user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "is_active", "is_staff", "last_login", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("-date_joined",)
    inlines = [SocialAccountInline, UserSessionInline]
    actions = ["sign_out_everywhere", "deactivate"]
    change_password_form = PasswordChangeForm

    def save_model(self, request, obj: User, form, change: bool) -> None:
        """Through the account services: a copy of the row anywhere goes, and deactivating here
        signs the person out and revokes their tokens as the action does."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        services.user_update(user=obj, fields=list(form.changed_data))
        if "is_active" in form.changed_data and not obj.is_active:
            services.user_deactivate(user=obj, actor=request.user)

    def delete_model(self, request, obj: User) -> None:
        services.user_delete(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            services.user_delete(user=user, actor=request.user)

    @admin.action(description="Sign out of every session")
    def sign_out_everywhere(self, request, queryset) -> None:
        ended = sum(
            services.user_sessions_end_all(user=user, actor=request.user) for user in queryset
        )
        self.message_user(request, f"{ended} session(s) signed out.", messages.SUCCESS)

    @admin.action(description="Deactivate (sign out everywhere, revoke every token)")
    def deactivate(self, request, queryset) -> None:
        for user in queryset:
            services.user_deactivate(user=user, actor=request.user)
        self.message_user(request, f"{queryset.count()} user(s) deactivated.", messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Admins read the audit log; nobody adds, edits or deletes an event here."""

    list_display = ("at", "action", "subject", "actor", "ip")
    list_filter = ("action",)
    search_fields = ("subject__email", "actor__email", "ip")
    list_select_related = ("subject", "actor")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SocialAppForm(AllauthSocialAppForm):
    """A provider's application, at most one per provider, its secret write-only."""

    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: never shown again. Leave empty to keep the current secret.",
    )

    def clean(self):
        cleaned = super().clean()
        provider_key = cleaned.get("provider_id") or cleaned.get("provider")
        if provider_key in settings.SIGNIN_PROVIDERS_FROM_ENVIRONMENT:
            raise forms.ValidationError(
                f"{provider_key} is configured from the environment; one application per "
                "provider, so remove its environment variables first."
            )
        duplicates = SocialApp.objects.exclude(pk=self.instance.pk)
        if cleaned.get("provider_id"):
            duplicates = duplicates.filter(provider_id=cleaned["provider_id"])
        else:
            duplicates = duplicates.filter(provider=cleaned.get("provider"), provider_id="")
        if duplicates.exists():
            raise forms.ValidationError(
                f"An application for {provider_key} is already registered: edit that one."
            )
        if not cleaned.get("secret"):
            if not self.instance.pk:
                self.add_error("secret", "A new application needs its client secret.")
            else:
                cleaned["secret"] = self.instance.secret
        return cleaned


admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)


@admin.register(SocialApp)
class SocialAppAdmin(AllauthSocialAppAdmin):
    form = SocialAppForm
    list_display = ("name", "provider", "provider_id", "client_id")


@admin.register(OAuthFlowRecord)
class OAuthFlowRecordAdmin(admin.ModelAdmin):
    list_display = ("user", "provider_name", "process", "completed_at")
    list_filter = ("provider_id", "process")
    search_fields = ("user__email", "user__username")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in OAuthFlowRecord._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(UserSession)


@admin.register(UserSession)
class UserSessionAdmin(AllauthUserSessionAdmin):
    """Open sessions; deleting one signs it out (allauth's admin would only drop the row, and
    the browser would stay signed in)."""

    readonly_fields = ("user", "created_at", "last_seen_at", "ip", "user_agent", "session_key")
    exclude = ("data",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: UserSession) -> None:
        self.delete_queryset(request, UserSession.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        sessions = list(queryset.select_related("user"))
        get_usersessions_adapter().end_sessions(sessions)
        for session in sessions:
            services.audit_event_record(
                action=AuditEvent.Action.SESSIONS_ENDED,
                subject=session.user,
                actor=request.user,
                detail={"sessions": 1},
            )

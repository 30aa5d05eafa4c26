from django.urls import path

from libraries import views

app_name = "libraries"

urlpatterns = [
    path("", views.library_list, name="list"),
    path("new/", views.library_create, name="create"),
    path("settings/", views.county_settings, name="county_settings"),
    path("<int:pk>/", views.library_detail, name="detail"),
    path("<int:pk>/edit/", views.library_edit, name="edit"),
    path("members/<int:pk>/role/", views.membership_role, name="membership_role"),
    path("members/<int:pk>/remove/", views.membership_remove, name="membership_remove"),
    path("invitations/", views.invitation_list, name="invitations"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]

from django.urls import path

from production.views import calendars, ideas, recording_days

app_name = "production"

urlpatterns = [
    path("ideas/", ideas.idea_list, name="idea_list"),
    path("ideas/new/", ideas.idea_create, name="idea_create"),
    path("ideas/<int:pk>/", ideas.idea_detail, name="idea_detail"),
    path("ideas/<int:pk>/edit/", ideas.idea_edit, name="idea_edit"),
    path("ideas/<int:pk>/accept/", ideas.idea_accept, name="idea_accept"),
    path("ideas/<int:pk>/decline/", ideas.idea_decline, name="idea_decline"),
    path("ideas/<int:pk>/plan/", ideas.idea_plan, name="idea_plan"),
    path("ideas/<int:pk>/used/", ideas.idea_mark_used, name="idea_mark_used"),
    path("ideas/<int:pk>/comments/", ideas.idea_comment, name="idea_comment"),
    path("ideas/attachments/<int:pk>/", ideas.idea_attachment, name="idea_attachment"),
    path("concepts/", ideas.concept_list, name="concept_list"),
    path("concepts/new/", ideas.concept_create, name="concept_create"),
    path("concepts/<int:pk>/", ideas.concept_detail, name="concept_detail"),
    path("concepts/<int:pk>/edit/", ideas.concept_edit, name="concept_edit"),
    path("recording-days/", recording_days.recording_day_list, name="recording_day_list"),
    path("recording-days/new/", recording_days.recording_day_create, name="recording_day_create"),
    path("recording-days/<int:pk>/", recording_days.recording_day_detail, name="recording_day_detail"),
    path("recording-days/<int:pk>/edit/", recording_days.recording_day_edit, name="recording_day_edit"),
    path("recording-days/<int:pk>/run-sheet/", recording_days.recording_day_print, name="recording_day_print"),
    path("recording-days/<int:pk>/announce/", recording_days.recording_day_announce, name="recording_day_announce"),
    path("recording-days/<int:pk>/done/", recording_days.recording_day_done, name="recording_day_done"),
    path("recording-days/<int:pk>/signups/", recording_days.signup_create, name="signup_create"),
    path("recording-days/<int:pk>/slots/", recording_days.slot_create, name="slot_create"),
    path("recording-days/signups/<int:pk>/withdraw/", recording_days.signup_withdraw, name="signup_withdraw"),
    path("recording-days/slots/<int:pk>/edit/", recording_days.slot_edit, name="slot_edit"),
    path("recording-days/slots/<int:pk>/remove/", recording_days.slot_remove, name="slot_remove"),
    path("recording-days/slots/<int:pk>/move/", recording_days.slot_move, name="slot_move"),
    path("recording-days/slots/<int:pk>/recorded/", recording_days.slot_recorded, name="slot_recorded"),
    path("calendar/", calendars.calendar_month, name="calendar_month"),
    path("calendar/agenda/", calendars.calendar_agenda, name="calendar_agenda"),
    path("calendar/subscription/", calendars.calendar_subscription, name="calendar_subscription"),
    path("calendar/feed/<str:token>.ics", calendars.calendar_feed, name="calendar_feed"),
]

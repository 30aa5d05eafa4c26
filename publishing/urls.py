from django.urls import path

from publishing.models import SharedItem
from publishing.views import archive, channel, engagement, network, plan, posts, reports, sharing

app_name = "publishing"

# What the sharing views are given: which kind of thing the address names.
ITEM = {"kind": SharedItem.Kind.ITEM}
CONCEPT = {"kind": SharedItem.Kind.CONCEPT}
IDEA = {"kind": SharedItem.Kind.IDEA}

urlpatterns = [
    path("posts/", posts.post_list, name="post_list"),
    path("posts/new/", posts.post_create, name="post_create"),
    path("posts/<int:pk>/", posts.post_detail, name="post_detail"),
    path("posts/<int:pk>/status/", posts.post_status, name="post_status"),
    path("posts/<int:pk>/edit/", posts.post_edit, name="post_edit"),
    path("posts/preview/", posts.post_preview, name="post_preview"),
    path("posts/<int:pk>/preview/", posts.post_preview, name="post_preview_of"),
    path("posts/<int:pk>/submit/", posts.post_submit, name="post_submit"),
    path("posts/<int:pk>/approve/", posts.post_approve, name="post_approve"),
    path("posts/<int:pk>/approve-alone/", posts.post_approve_alone, name="post_approve_alone"),
    path("posts/<int:pk>/mark-reviewed/", posts.post_mark_reviewed, name="post_mark_reviewed"),
    path("posts/<int:pk>/return/", posts.post_return, name="post_return"),
    path("posts/<int:pk>/schedule/", posts.post_schedule, name="post_schedule"),
    path("posts/<int:pk>/unschedule/", posts.post_unschedule, name="post_unschedule"),
    path("posts/<int:pk>/cancel/", posts.post_cancel, name="post_cancel"),
    path("posts/<int:pk>/move/", posts.post_move, name="post_move"),
    path("plan/", plan.plan_month, name="plan_month"),
    path("plan/week/", plan.plan_week, name="plan_week"),
    path("plan/subscription/", plan.plan_subscription, name="plan_subscription"),
    path("plan/feed/<str:token>.ics", plan.plan_feed, name="plan_feed"),
    path("channel/", channel.channel, name="channel"),
    path("channel/connect/", channel.channel_connect, name="channel_connect"),
    path("channel/callback/", channel.channel_callback, name="channel_callback"),
    path("channel/token/", channel.channel_token, name="channel_token"),
    path("channel/choose/", channel.channel_choose, name="channel_choose"),
    path("channel/disconnect/", channel.channel_disconnect, name="channel_disconnect"),
    path("channel/refresh/", channel.channel_refresh, name="channel_refresh"),
    path("channel/settings/", channel.channel_settings, name="channel_settings"),
    # The shared archive: search, items, downloads, reuse.
    path("archive/", archive.archive_search, name="archive"),
    path("archive/<int:pk>/", archive.archive_item, name="archive_item"),
    path("archive/<int:pk>/download/<str:version>/", archive.archive_download, name="archive_download"),
    path("archive/selection/", archive.archive_selection, name="archive_selection"),
    path("archive/selection/download/", archive.archive_zip, name="archive_zip"),
    path("archive/reuse/", archive.archive_reuse, name="archive_reuse"),
    path("archive/media/<int:pk>/", archive.archive_asset, name="archive_asset"),
    # The network of counties: an item's, a concept's or an idea's county offers, approves and un-shares it.
    path("archive/<int:pk>/share/", sharing.share_offer, ITEM, name="archive_share"),
    path("archive/<int:pk>/share/approve/", sharing.share_approve, ITEM, name="archive_share_approve"),
    path("archive/<int:pk>/share/stop/", sharing.share_stop, ITEM, name="archive_unshare"),
    path("network/concepts/<int:pk>/share/", sharing.share_offer, CONCEPT, name="concept_share"),
    path("network/concepts/<int:pk>/share/approve/", sharing.share_approve, CONCEPT, name="concept_share_approve"),
    path("network/concepts/<int:pk>/share/stop/", sharing.share_stop, CONCEPT, name="concept_unshare"),
    path("network/ideas/<int:pk>/share/", sharing.share_offer, IDEA, name="idea_share"),
    path("network/ideas/<int:pk>/share/approve/", sharing.share_approve, IDEA, name="idea_share_approve"),
    path("network/ideas/<int:pk>/share/stop/", sharing.share_stop, IDEA, name="idea_unshare"),
    # The shared pool: other counties' shared items, borrowed into the county's archive, hidden by a moderator.
    path("network/", network.pool, name="pool"),
    path("network/<int:pk>/", network.pool_item, name="pool_item"),
    path("network/<int:pk>/borrow/", network.pool_borrow, name="pool_borrow"),
    path("network/<int:pk>/hide/", network.pool_hide, name="pool_hide"),
    # After publishing: the comments inbox, the Instagram webhook, insights.
    path("inbox/", engagement.inbox, name="inbox"),
    path("inbox/count/", engagement.inbox_count, name="inbox_count"),
    path("inbox/<int:pk>/reply/", engagement.comment_reply, name="comment_reply"),
    path("inbox/<int:pk>/handled/", engagement.comment_handled, name="comment_handled"),
    path("inbox/<int:pk>/reopen/", engagement.comment_reopen, name="comment_reopen"),
    path("posts/<int:pk>/insights/", engagement.post_read_insights, name="post_read_insights"),
    path("webhooks/instagram/", engagement.instagram_webhook, name="instagram_webhook"),
    # Outcomes and the monthly report.
    path("posts/<int:pk>/outcomes/", reports.outcome_create, name="outcome_create"),
    path("outcomes/<int:pk>/edit/", reports.outcome_edit, name="outcome_edit"),
    path("outcomes/<int:pk>/delete/", reports.outcome_delete, name="outcome_delete"),
    path("reports/", reports.report, name="report"),
    path("reports/print/", reports.report_print, name="report_print"),
    path("reports/send/", reports.report_send, name="report_send"),
]

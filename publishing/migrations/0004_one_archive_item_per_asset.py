from django.db import migrations


def one_item_per_asset(apps, schema_editor):
    """Archive items become one per asset: a later post of the same asset is kept as a reuse.

    The copied metadata is filled in from the asset and the post; the search
    documents and the word list follow with `manage.py refresh_archive`
    (publishing/archive.py), which an upgrade runs after migrating.
    """
    ArchiveItem = apps.get_model("publishing", "ArchiveItem")
    ArchiveReuse = apps.get_model("publishing", "ArchiveReuse")
    kept = {}
    for item in ArchiveItem.objects.select_related("asset", "post").order_by("asset_id", "published_at", "pk"):
        first = kept.get(item.asset_id)
        if first is None:
            kept[item.asset_id] = item
            asset, post = item.asset, item.post
            item.title = (asset.title or (post.title if post else ""))[:200]
            item.caption = post.caption if post else ""
            item.alt_text = asset.alt_text
            item.credit_line = asset.credit_line or (post.credit if post else "")
            item.tags = [str(tag)[:50] for tag in (asset.tags or [])]
            item.media_kind = asset.kind
            if asset.width and asset.height:
                ratio = asset.width / asset.height
                item.orientation = "square" if 0.95 <= ratio <= 1.05 else ("landscape" if ratio > 1 else "portrait")
            item.save()
            continue
        if item.post_id is not None:
            ArchiveReuse.objects.get_or_create(
                item=first, post_id=item.post_id, defaults={"via": "composed", "at": item.published_at or item.created_at}
            )
        first.libraries.add(*item.libraries.all())
        item.delete()
    for item in kept.values():
        item.reuse_count = ArchiveReuse.objects.filter(item=item).count()
        item.library_ids = sorted(item.libraries.values_list("pk", flat=True))
        item.save(update_fields=["reuse_count", "library_ids"])


class Migration(migrations.Migration):
    # A migration of its own: PostgreSQL refuses to change a table with the deleted rows' checks pending.
    dependencies = [("publishing", "0003_archive_and_engagement")]

    operations = [migrations.RunPython(one_item_per_asset, migrations.RunPython.noop)]

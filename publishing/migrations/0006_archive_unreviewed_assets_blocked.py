"""Archive items of assets with nobody registered as shown are blocked until an editor reviews them.

Since production 0006 an asset with nobody registered is *not reviewed* (DESIGN.md §3) until an
editor confirms that it shows no identifiable people; nothing is confirmed on the way up, so the
archive's copy (`reuse_blocked`, what its search filters on) must say "blocked" for them at once,
as `publishing.archive.filing.refresh_items` would. Going back down leaves the copies alone:
`refresh_archive` rebuilds them from the rule then in force.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef


def block_unreviewed(apps, schema_editor):
    ArchiveItem = apps.get_model("publishing", "ArchiveItem")
    AssetPerson = apps.get_model("production", "AssetPerson")
    shown = AssetPerson.objects.filter(asset=OuterRef("asset_id"))
    ArchiveItem.objects.filter(~Exists(shown), asset__no_people_confirmed_at__isnull=True).update(reuse_blocked=True)


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0007_asset_no_people_confirmed"),
        ("publishing", "0005_archive_item_asset_unique"),
    ]

    operations = [migrations.RunPython(block_unreviewed, migrations.RunPython.noop)]

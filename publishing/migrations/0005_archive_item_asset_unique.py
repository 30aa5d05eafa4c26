import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("publishing", "0004_one_archive_item_per_asset")]

    operations = [
        migrations.AlterField(
            model_name="archiveitem",
            name="asset",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="archive_item", to="production.asset"
            ),
        ),
    ]

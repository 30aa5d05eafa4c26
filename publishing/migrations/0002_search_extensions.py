from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm for the archive's typo-tolerant search (a trusted extension: the database owner may create it)."""

    dependencies = [("publishing", "0001_initial")]

    operations = [TrigramExtension()]

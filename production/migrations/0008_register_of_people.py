"""The county's register of people: one entry per person recorded in an asset, linked as before.

Each recorded AssetPerson becomes a register Person of the asset's county with
the same name and category; the tag points at it and the person's consents move
to it, so every asset's consent state means what it meant. Merging entries that
are the same person is an editor's explicit, audited action afterwards.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def register_everyone_recorded(apps, schema_editor):
    AssetPerson = apps.get_model("production", "AssetPerson")
    Person = apps.get_model("production", "Person")
    Consent = apps.get_model("production", "Consent")
    for tag in AssetPerson.objects.select_related("asset").order_by("pk").iterator(chunk_size=500):
        person = Person.objects.create(
            county_id=tag.asset.county_id, name=tag.name, category=tag.category, language=settings.LANGUAGE_CODE
        )
        Person.objects.filter(pk=person.pk).update(created_at=tag.created_at)
        AssetPerson.objects.filter(pk=tag.pk).update(person=person)
        Consent.objects.filter(person_id=tag.pk).update(subject=person)


def unregister(apps, schema_editor):
    AssetPerson = apps.get_model("production", "AssetPerson")
    Consent = apps.get_model("production", "Consent")
    for tag in AssetPerson.objects.select_related("person").order_by("pk"):
        if tag.person is None:
            continue
        AssetPerson.objects.filter(pk=tag.pk).update(name=tag.person.name, category=tag.person.category)
        Consent.objects.filter(subject_id=tag.person_id).update(person_id=tag.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0001_initial"),
        ("production", "0007_asset_no_people_confirmed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Person",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="name or description")),
                (
                    "category",
                    models.CharField(
                        choices=[("staff", "Library staff"), ("patron", "Patron (adult)"), ("child", "Child")],
                        max_length=10,
                        verbose_name="who",
                    ),
                ),
                (
                    "contact_email",
                    models.EmailField(
                        blank=True,
                        help_text="Where a consent link goes: the person's own address, or a child's guardian's.",
                        max_length=254,
                        verbose_name="e-mail for consent matters",
                    ),
                ),
                (
                    "guardian",
                    models.CharField(
                        blank=True,
                        help_text="For a child: the guardian who decides on consent.",
                        max_length=200,
                        verbose_name="guardian",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("nb", "Norwegian Bokmål"), ("en", "English"), ("da", "Danish")],
                        default="nb",
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "county",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="people", to="libraries.county"
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "person in the register",
                "verbose_name_plural": "register of people",
                "ordering": ("name", "pk"),
                "indexes": [models.Index(fields=["county", "name"], name="production__county__b28082_idx")],
            },
        ),
        migrations.AddField(
            model_name="assetperson",
            name="person",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="tags",
                to="production.person",
                verbose_name="person",
            ),
        ),
        migrations.AddField(
            model_name="assetperson",
            name="suggested",
            field=models.BooleanField(default=False, verbose_name="suggested, to be confirmed"),
        ),
        migrations.AddField(
            model_name="consent",
            name="subject",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="production.person"
            ),
        ),
        migrations.RunPython(register_everyone_recorded, unregister),
        migrations.RemoveField(model_name="consent", name="person"),
        migrations.RenameField(model_name="consent", old_name="subject", new_name="person"),
        migrations.AlterField(
            model_name="consent",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="consents", to="production.person"
            ),
        ),
        migrations.RemoveField(model_name="assetperson", name="name"),
        migrations.RemoveField(model_name="assetperson", name="category"),
        migrations.AlterModelOptions(
            name="assetperson",
            options={"ordering": ("person__name", "pk"), "verbose_name": "person shown", "verbose_name_plural": "people shown"},
        ),
        migrations.AddConstraint(
            model_name="assetperson",
            constraint=models.UniqueConstraint(fields=("asset", "person"), name="person_tagged_once_per_asset"),
        ),
        migrations.AddField(
            model_name="consent",
            name="covers_sharing",
            field=models.BooleanField(default=False, verbose_name="share with other counties"),
        ),
        migrations.AddField(
            model_name="consent",
            name="digital_record",
            field=models.JSONField(blank=True, default=dict, help_text="{at, ip, email, language, text, link}"),
        ),
    ]

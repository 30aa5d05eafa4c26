# Presenters on recording days become people in the county's register (issue #19).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def register_presenters(apps, schema_editor):
    """Link each existing sign-up to a register entry: the one an earlier sign-up of the same person in the
    county has, else an adult entry with their e-mail as contact address, else a new staff entry.
    The same rule as production.services.people.register_presenter, so nothing differs by when someone signed up."""
    PresenterSignup = apps.get_model("production", "PresenterSignup")
    Person = apps.get_model("production", "Person")
    found: dict[tuple[int, int], int] = {}
    signups = PresenterSignup.objects.filter(register_person__isnull=True).select_related("recording_day", "person")
    for signup in signups.order_by("created_at", "pk").iterator():
        user, county_id = signup.person, signup.recording_day.county_id
        key = (county_id, user.pk)
        if key not in found:
            person = (
                Person.objects.filter(county_id=county_id, contact_email__iexact=user.email)
                .exclude(category="child")
                .order_by("created_at", "pk")
                .first()
            )
            if person is None:
                person = Person.objects.create(
                    county_id=county_id,
                    name=" ".join((user.name or user.email).split())[:200],
                    category="staff",
                    contact_email=user.email,
                    language=user.language or settings.LANGUAGE_CODE,
                    created_by_id=signup.signed_up_by_id,
                )
            found[key] = person.pk
        signup.register_person_id = found[key]
        signup.save(update_fields=["register_person"])


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0011_asset_reel_progress_and_cover"),
    ]

    operations = [
        migrations.AddField(
            model_name="presentersignup",
            name="register_person",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="presenter_signups",
                to="production.person",
                verbose_name="in the register",
            ),
        ),
        migrations.RunPython(register_presenters, migrations.RunPython.noop),
    ]

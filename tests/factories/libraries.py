from datetime import timedelta

import factory
from django.utils import timezone

from libraries.models import County, Invitation, Library, Membership, Role, User, hash_token

PASSWORD = "correct-horse-battery"


class CountyFactory(factory.django.DjangoModelFactory[County]):
    class Meta:
        model = County
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Fylke {n}")
    slug = factory.Sequence(lambda n: f"fylke-{n}")


class LibraryFactory(factory.django.DjangoModelFactory[Library]):
    class Meta:
        model = Library

    county = factory.SubFactory(CountyFactory)
    kind = Library.Kind.MEMBER
    name = factory.Sequence(lambda n: f"Bibliotek {n}")
    municipality = factory.Sequence(lambda n: f"Kommune {n}")
    instagram_username = factory.Sequence(lambda n: f"bibliotek_{n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name", locale="no_NO")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    library = factory.SubFactory(LibraryFactory)
    role = Role.LIBRARIAN


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invited{n}@example.org")
    library = factory.SubFactory(LibraryFactory)
    role = Role.LIBRARIAN
    token_hash = factory.Sequence(lambda n: hash_token(f"token-{n}"))
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))

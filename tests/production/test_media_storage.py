"""Media in an S3-compatible store: the addresses a browser is sent to are ones it can reach."""

import re

import pytest

from tests.conftest import World, client_for
from tests.factories.publishing import make_asset

pytestmark = pytest.mark.django_db

# docker-compose.yml: the app reaches MinIO as http://minio:9000 on the compose network;
# the browser on the host reaches the same MinIO at http://localhost:9000.
MINIO = {
    "BACKEND": "config.storage.MediaStorage",
    "OPTIONS": {
        "bucket_name": "innspill-media",
        "endpoint_url": "http://minio:9000",
        "public_endpoint_url": "http://localhost:9000",
        "region_name": "us-east-1",
        "access_key": "innspill",
        "secret_key": "innspill-demo-minio",
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 600,
        "file_overwrite": False,
    },
}


def test_the_picture_on_a_media_page_comes_from_the_stores_public_address(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(county=world.county, library=world.library, uploaded_by=world.editor)
    # From here on the files are in the store (presigning is local: nothing is asked of MinIO).
    settings.STORAGES = {**settings.STORAGES, "default": MINIO}
    client = client_for(world.editor)
    page = client.get(asset.get_absolute_url())
    assert page.status_code == 200
    sources = re.findall(rf'src="(/media/{asset.pk}/[^"]+)"', page.text)
    assert sources, page.text
    for source in sources:
        response = client.get(source)
        assert response.status_code == 302, source
        assert response["Location"].startswith("http://localhost:9000/innspill-media/"), response["Location"]
        assert "minio" not in response["Location"]

"""The S3 media storage, with presigned addresses for the host browsers reach."""

from __future__ import annotations

import threading
from typing import Any

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class MediaStorage(S3Storage):  # type: ignore[misc]  # django-storages ships no types
    """django-storages' S3Storage whose presigned URLs point at `public_endpoint_url`.

    The app talks to the store at `endpoint_url`, which may be a name only the
    servers resolve (MinIO on docker-compose's network: http://minio:9000);
    browsers, and Instagram fetching a rendition, get the addresses made by
    url(). A presigned URL may be signed for its host (Signature Version 4
    signs the Host header), so the host is not rewritten afterwards: URLs are
    signed by a second client set up for the public endpoint. Signing is local, no request
    reaches the store. Empty: the URLs name `endpoint_url` (AWS itself, or a
    store that everyone reaches under one name).
    """

    def __init__(self, *, public_endpoint_url: str | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.public_endpoint_url = public_endpoint_url
        self._public_connections = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_public_connections", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._public_connections = threading.local()

    @property
    def public_connection(self) -> Any:
        connection = getattr(self._public_connections, "connection", None)
        if connection is None:
            connection = self._create_session().resource(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.public_endpoint_url,
                config=self.client_config,
                verify=self.verify,
            )
            self._public_connections.connection = connection
        return connection

    def url(
        self,
        name: str,
        parameters: dict[str, str] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if not self.public_endpoint_url or self.custom_domain or not self.querystring_auth:
            return str(super().url(name, parameters=parameters, expire=expire, http_method=http_method))
        # What S3Storage.url() does for a presigned address, with the public client.
        params = {**(parameters or {}), "Bucket": self.bucket_name, "Key": self._normalize_name(clean_name(name))}
        return str(
            self.public_connection.meta.client.generate_presigned_url(
                "get_object",
                Params=params,
                ExpiresIn=self.querystring_expire if expire is None else expire,
                HttpMethod=http_method,
            )
        )

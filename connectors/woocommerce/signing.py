"""The ``woocommerce`` package's API with OAuth 1.0a signing that WooCommerce accepts for any value.

Defects of woocommerce 3.0.0 fixed here, over plain HTTP only (HTTPS requests
go through the package unchanged):
- it normalises signed values with ``quote(unquote(v))``, which leaves ``/``
  unencoded and decodes ``%``, so values with ``/`` or ``%`` get a signature
  the store rejects; WooCommerce encodes each name and value with RFC 3986
  and then URL-encodes the ``name=value`` pair once more;
- it puts the query in the signed URL and passes it to requests again, so
  every parameter is sent twice.
Each request is signed afresh (new nonce and timestamp): a store's
``rel="next"`` link repeats the old signature and is refused.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any
from urllib.parse import quote, urlencode

import requests
from woocommerce import API
from woocommerce.oauth import OAuth


def encode_rfc3986(text: str) -> str:
    return quote(text, safe="-_.~")


class StoreOAuth(OAuth):  # type: ignore[misc]
    """OAuth 1.0a signer whose parameter normalisation matches WooCommerce's server."""

    @staticmethod
    def normalize_parameters(params: dict[str, Any]) -> OrderedDict[str, str]:
        normalized: OrderedDict[str, str] = OrderedDict()
        for key, value in params.items():
            # PHP's urlencode of a rawurlencoded string: "%" -> "%25", "~" -> "%7E".
            name = encode_rfc3986(str(key)).replace("%", "%25").replace("~", "%7E")
            normalized[name] = encode_rfc3986(str(value)).replace("%", "%25").replace("~", "%7E")
        return normalized


class StoreAPI(API):  # type: ignore[misc]
    """``woocommerce.API`` that signs OAuth requests correctly and sends each parameter once."""

    def _API__request(
        self,
        method: str,
        endpoint: str,
        data: Any,
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        if self.is_ssl:
            response: requests.Response = super()._API__request(
                method, endpoint, data, dict(params or {}), **kwargs
            )
            return response

        url = self._API__get_url(endpoint)
        if params:
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        signer = StoreOAuth(
            url=url,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            version=self.version,
            method=method,
        )
        headers = {"user-agent": self.user_agent, "accept": "application/json"}
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json;charset=utf-8"
        return requests.request(
            method=method,
            url=signer.get_oauth_url(),
            data=body,
            headers=headers,
            timeout=self.timeout,
            verify=self.verify_ssl,
            **kwargs,
        )

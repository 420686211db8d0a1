"""Resolvers of the mutations and shop-level queries: media writes, files, webhooks, bulk runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo

from simulators.shopify.state import SimMedia, SimProduct, gid, parse_gid

Info = GraphQLResolveInfo[Any]

if TYPE_CHECKING:
    from simulators.shopify.shop import ShopifyState

TOPICS = {
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete",
    "APP_UNINSTALLED": "app/uninstalled",
}


def state_of(info: Info) -> ShopifyState:
    return info.context.state  # type: ignore[no-any-return]


def require_scope(info: Info, scope: str) -> None:
    """Raise Shopify's ACCESS_DENIED error when the app lacks ``scope``."""
    if scope in state_of(info).settings.scopes:
        return
    field = info.field_name
    raise GraphQLError(
        f"Access denied for {field} field. Required access: `{scope}` access scope.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"`{scope}` access scope.",
        },
    )


def user_error(field: list[str], message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": field, "message": message}
    if code is not None:
        error["code"] = code
    return error


# Shop-level queries


def resolve_shop(_root: None, info: Info) -> dict[str, Any]:
    settings = state_of(info).settings
    return {"id": gid("Shop", 1), "name": settings.shop_name, "myshopifyDomain": settings.domain}


def resolve_installation(_root: None, info: Info) -> dict[str, Any]:
    scopes = state_of(info).settings.scopes
    return {
        "id": gid("AppInstallation", 1),
        "accessScopes": [{"handle": scope, "description": scope} for scope in scopes],
    }


def resolve_job(_root: None, info: Info, id: str) -> dict[str, Any] | None:  # noqa: A002
    return state_of(info).jobs.get(id)


def resolve_current_bulk(_root: None, info: Info, type: str = "QUERY") -> Any:  # noqa: A002
    return state_of(info).bulk.current


# Media and files


def resolve_product_update(
    _root: None,
    info: Info,
    product: dict[str, Any] | None = None,
    media: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    require_scope(info, "write_products")
    state = state_of(info)
    target = state.product_by_gid((product or {}).get("id"))
    if target is None:
        return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}

    for name, attribute in (
        ("title", "title"),
        ("productType", "product_type"),
        ("vendor", "vendor"),
    ):
        if product and product.get(name) is not None:
            setattr(target, attribute, product[name])
    if product and product.get("tags") is not None:
        target.tags = list(product["tags"])
    if product and product.get("status") is not None:
        target.status = product["status"]

    for entry in media or []:
        created = state.catalogue.new_media(
            filename_of(entry["originalSource"]), entry.get("alt") or "", entry["originalSource"]
        )
        state.catalogue.attach(created, target)
        state.start_processing(created)
    state.catalogue.touch(target)
    return {"product": target, "userErrors": []}


def filename_of(source: str) -> str:
    path = source.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] or "image"


def resolve_file_create(_root: None, info: Info, files: list[dict[str, Any]]) -> dict[str, Any]:
    require_scope(info, "write_files")
    state = state_of(info)
    errors = []
    for index, entry in enumerate(files):
        if not entry["originalSource"].startswith(("http://", "https://")):
            errors.append(
                user_error(
                    ["files", str(index), "originalSource"],
                    "Image URL is invalid",
                    "INVALID_IMAGE_SOURCE_URL",
                )
            )
        if entry.get("contentType") not in (None, "IMAGE"):
            errors.append(
                user_error(
                    ["files", str(index), "contentType"], "Only images are supported", "INVALID"
                )
            )
    if errors:
        return {"files": None, "userErrors": errors}

    created = []
    for entry in files:
        name = entry.get("filename") or filename_of(entry["originalSource"])
        mode = entry.get("duplicateResolutionMode") or "APPEND_UUID"
        media = replaced_file(state, name, entry) if mode == "REPLACE" else None
        if media is None:
            name = state.unique_filename(name, mode)
            media = state.catalogue.new_media(name, entry.get("alt") or "", entry["originalSource"])
        state.start_processing(media)
        created.append(media)
    return {"files": created, "userErrors": []}


def replaced_file(state: ShopifyState, name: str, entry: dict[str, Any]) -> SimMedia | None:
    """Give the file already named ``name`` the new source, keeping its id and references."""
    media = next((m for m in state.catalogue.media.values() if m.filename == name), None)
    if media is None:
        return None
    media.source = entry["originalSource"]
    media.alt = entry.get("alt") or media.alt
    media.status = "UPLOADED"
    media.error = None
    media.data = None
    media.updated_at = state.catalogue.now()
    return media


def resolve_file_update(_root: None, info: Info, files: list[dict[str, Any]]) -> dict[str, Any]:
    require_scope(info, "write_files")
    state = state_of(info)
    errors = validate_file_updates(state, files)
    if errors:
        return {"files": None, "userErrors": errors}

    updated: list[SimMedia] = []
    touched: dict[int, SimProduct] = {}
    for entry in files:
        media = state.media_by_gid(entry["id"])
        assert media is not None
        if entry.get("alt") is not None:
            media.alt = entry["alt"]
        for product_gid in entry.get("referencesToAdd") or []:
            product = state.product_by_gid(product_gid)
            assert product is not None
            state.catalogue.attach(media, product)
            touched[product.id] = product
        for product_gid in entry.get("referencesToRemove") or []:
            product = state.product_by_gid(product_gid)
            assert product is not None
            state.catalogue.detach(media, product)
            touched[product.id] = product
        media.updated_at = state.catalogue.now()
        updated.append(media)
    for product in touched.values():
        state.catalogue.touch(product)
    return {"files": updated, "userErrors": []}


def validate_file_updates(state: ShopifyState, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors = []
    for index, entry in enumerate(files):
        media = state.media_by_gid(entry["id"])
        if media is None:
            errors.append(
                user_error(
                    ["files", str(index), "id"],
                    f"File id {entry['id']} does not exist.",
                    "FILE_DOES_NOT_EXIST",
                )
            )
            continue
        references = (entry.get("referencesToAdd") or []) + (entry.get("referencesToRemove") or [])
        if references and media.status != "READY":
            errors.append(
                user_error(
                    ["files", str(index), "id"],
                    "Non-ready files cannot be updated.",
                    "NON_READY_STATE",
                )
            )
        for reference in references:
            if state.product_by_gid(reference) is None:
                errors.append(
                    user_error(
                        ["files", str(index), "references"],
                        f"The reference target {reference} does not exist.",
                        "REFERENCE_TARGET_DOES_NOT_EXIST",
                    )
                )
    return errors


def resolve_file_delete(_root: None, info: Info, fileIds: list[str]) -> dict[str, Any]:  # noqa: N803
    require_scope(info, "write_files")
    state = state_of(info)
    missing = [value for value in fileIds if state.media_by_gid(value) is None]
    if missing:
        return {
            "deletedFileIds": None,
            "userErrors": [
                user_error(["fileIds"], f"File id {value} does not exist.", "FILE_DOES_NOT_EXIST")
                for value in missing
            ],
        }
    for value in fileIds:
        state.delete_media(value)
    return {"deletedFileIds": fileIds, "userErrors": []}


def resolve_reorder(
    _root: None, info: Info, id: str, moves: list[dict[str, Any]]
) -> dict[str, Any]:  # noqa: A002
    require_scope(info, "write_products")
    state = state_of(info)
    product = state.product_by_gid(id)
    if product is None:
        return {
            "job": None,
            "mediaUserErrors": [
                user_error(["id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            ],
        }
    errors = []
    parsed: list[tuple[int, int]] = []
    for index, move in enumerate(moves):
        number = parse_gid(move["id"], "MediaImage")
        if number is None or number not in product.media_ids:
            errors.append(
                user_error(
                    ["moves", str(index), "id"],
                    "Media does not exist on the given product.",
                    "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
            continue
        try:
            parsed.append((number, int(move["newPosition"])))
        except ValueError:
            errors.append(
                user_error(["moves", str(index), "newPosition"], "Position is invalid", "INVALID")
            )
    if errors:
        return {"job": None, "mediaUserErrors": errors}
    return {"job": state.start_reorder(product, parsed), "mediaUserErrors": []}


def resolve_variant_append(
    _root: None,
    info: Info,
    productId: str,
    variantMedia: list[dict[str, Any]],  # noqa: N803
) -> dict[str, Any]:
    require_scope(info, "write_products")
    state = state_of(info)
    product = state.product_by_gid(productId)
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            ],
        }
    variants = {gid("ProductVariant", v.id): v for v in product.variants}
    errors = []
    for index, entry in enumerate(variantMedia):
        if entry["variantId"] not in variants:
            errors.append(
                user_error(
                    ["variantMedia", str(index), "variantId"],
                    "Variant does not exist on the given product.",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
        for media_gid in entry["mediaIds"]:
            media = state.media_by_gid(media_gid)
            if media is None or media.id not in product.media_ids:
                errors.append(
                    user_error(
                        ["variantMedia", str(index), "mediaIds"],
                        "Media does not exist on the given product.",
                        "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                    )
                )
            elif media.status != "READY":
                errors.append(
                    user_error(
                        ["variantMedia", str(index), "mediaIds"],
                        "Non-ready media cannot be attached to variants.",
                        "NON_READY_MEDIA",
                    )
                )
    if errors:
        return {"product": None, "productVariants": None, "userErrors": errors}

    changed = []
    for entry in variantMedia:
        variant = variants[entry["variantId"]]
        variant.media_ids = [
            number
            for number in (parse_gid(v, "MediaImage") for v in entry["mediaIds"])
            if number is not None
        ]
        variant.updated_at = state.catalogue.now()
        changed.append(variant)
    state.catalogue.touch(product)
    return {"product": product, "productVariants": changed, "userErrors": []}


def resolve_staged_uploads(_root: None, info: Info, input: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: A002
    state = state_of(info)
    targets = [
        state.staged.create(entry["filename"], entry["mimeType"], entry.get("httpMethod") or "PUT")
        for entry in input
    ]
    return {"stagedTargets": targets, "userErrors": []}


def resolve_webhook_create(
    _root: None,
    info: Info,
    topic: str,
    webhookSubscription: dict[str, Any],  # noqa: N803
) -> dict[str, Any]:
    state = state_of(info)
    url = webhookSubscription.get("callbackUrl")
    if not url:
        return {
            "webhookSubscription": None,
            "userErrors": [
                user_error(["webhookSubscription", "callbackUrl"], "Address can't be blank")
            ],
        }
    subscription = state.webhooks.subscribe(TOPICS[topic], str(url))
    if subscription is None:
        return {
            "webhookSubscription": None,
            "userErrors": [
                user_error(
                    ["webhookSubscription", "callbackUrl"],
                    "Address for this topic has already been taken",
                )
            ],
        }
    return {"webhookSubscription": subscription, "userErrors": []}


def resolve_bulk_run(_root: None, info: Info, query: str) -> dict[str, Any]:
    require_scope(info, "read_products")
    return state_of(info).bulk.start(query)


def resolve_subscription_endpoint(subscription: dict[str, Any], _info: Info) -> dict[str, Any]:
    return {"__typename": "WebhookHttpEndpoint", "callbackUrl": subscription["callbackUrl"]}


MUTATION_RESOLVERS: dict[str, dict[str, Any]] = {
    "QueryRoot": {
        "shop": resolve_shop,
        "currentAppInstallation": resolve_installation,
        "job": resolve_job,
        "currentBulkOperation": resolve_current_bulk,
    },
    "Mutation": {
        "productUpdate": resolve_product_update,
        "fileCreate": resolve_file_create,
        "fileUpdate": resolve_file_update,
        "fileDelete": resolve_file_delete,
        "productReorderMedia": resolve_reorder,
        "productVariantAppendMedia": resolve_variant_append,
        "stagedUploadsCreate": resolve_staged_uploads,
        "webhookSubscriptionCreate": resolve_webhook_create,
        "bulkOperationRunQuery": resolve_bulk_run,
    },
    "WebhookSubscription": {"endpoint": resolve_subscription_endpoint},
}

"""Every GraphQL document the Shopify connector sends (Admin API 2025-01).

Tests validate each one against the real 2025-01 schema and reject deprecated
fields, so a new document belongs in ``DOCUMENTS``.

Page size: a query may cost at most 1,000 points, where an object costs 1 and
a connection 2 plus ``first`` times one node's cost. One product below costs
1 + 1 (featuredMedia) + 22 (10 media with their image) + 22 (10 variants with
their image) = 46 points, so a page holds 21 products (968 points) rather than
the 250 that a product list without nested connections could.
"""

from __future__ import annotations

MAX_QUERY_COST = 1000
MEDIA_PER_PAGE_PRODUCT = 10
VARIANTS_PER_PAGE_PRODUCT = 10
PRODUCT_COST = 1 + 1 + (2 + MEDIA_PER_PAGE_PRODUCT * 2) + (2 + VARIANTS_PER_PAGE_PRODUCT * 2)
PAGE_SIZE = min(250, (MAX_QUERY_COST - 2) // PRODUCT_COST)

PRODUCT_FIELDS = """
fragment ProductFields on Product {
  id
  title
  handle
  productType
  vendor
  tags
  status
  updatedAt
  featuredMedia { id }
  media(first: $mediaFirst) {
    nodes {
      id
      alt
      mediaContentType
      status
      ... on MediaImage { image { url width height altText } }
    }
  }
  variants(first: $variantsFirst) {
    nodes { id title image { url altText } }
  }
}
"""

PRODUCTS_PAGE = (
    """
query ProductsPage(
  $first: Int!, $after: String, $query: String, $mediaFirst: Int!, $variantsFirst: Int!
) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ProductFields }
  }
}
"""
    + PRODUCT_FIELDS
)

PRODUCT = (
    """
query Product($id: ID!, $mediaFirst: Int!, $variantsFirst: Int!) {
  product(id: $id) { ...ProductFields }
}
"""
    + PRODUCT_FIELDS
)

# A write needs only the product's media. Most products have a few, so they are read
# in pages of 50 (1 + 2 + 50 x 2 = 103 points requested) instead of all 250 at once.
MEDIA_PAGE_SIZE = 50

PRODUCT_MEDIA = """
query ProductMedia($id: ID!, $first: Int!, $after: String) {
  product(id: $id) {
    media(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id
        alt
        mediaContentType
        status
        ... on MediaImage { image { url width height altText } }
      }
    }
  }
}
"""

PRODUCTS_COUNT = """
query ProductsCount($query: String) {
  productsCount(query: $query) { count precision }
}
"""

# The inner query of a bulk export: no page sizes, children joined by __parentId.
BULK_PRODUCTS = """
{
  products(query: "%s") {
    edges {
      node {
        id
        title
        handle
        productType
        vendor
        tags
        status
        updatedAt
        featuredMedia { id }
        media {
          edges {
            node {
              id
              alt
              mediaContentType
              status
              ... on MediaImage { image { url width height altText } }
            }
          }
        }
        variants {
          edges { node { id title image { url altText } } }
        }
      }
    }
  }
}
"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""

BULK_CURRENT = """
query BulkCurrent {
  currentBulkOperation(type: QUERY) {
    id status errorCode objectCount url partialDataUrl
  }
}
"""

MEDIA_STATUS = """
query MediaStatus($id: ID!) {
  node(id: $id) {
    ... on MediaImage {
      id
      alt
      status
      image { url width height altText }
      mediaErrors { code details message }
    }
  }
}
"""

FILE_CREATE = """
mutation FileCreate($files: [FileCreateInput!]!) {
  fileCreate(files: $files) {
    files { id fileStatus alt }
    userErrors { field message code }
  }
}
"""

FILE_UPDATE = """
mutation FileUpdate($files: [FileUpdateInput!]!) {
  fileUpdate(files: $files) {
    files { id fileStatus }
    userErrors { field message code }
  }
}
"""

FILE_DELETE = """
mutation FileDelete($ids: [ID!]!) {
  fileDelete(fileIds: $ids) {
    deletedFileIds
    userErrors { field message code }
  }
}
"""

REORDER_MEDIA = """
mutation ReorderMedia($id: ID!, $moves: [MoveInput!]!) {
  productReorderMedia(id: $id, moves: $moves) {
    job { id done }
    mediaUserErrors { field message code }
  }
}
"""

JOB = """
query Job($id: ID!) {
  job(id: $id) { id done }
}
"""

VARIANT_APPEND_MEDIA = """
mutation VariantAppendMedia($productId: ID!, $variantMedia: [ProductVariantAppendMediaInput!]!) {
  productVariantAppendMedia(productId: $productId, variantMedia: $variantMedia) {
    productVariants { id }
    userErrors { field message code }
  }
}
"""

STAGED_UPLOADS = """
mutation StagedUploads($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $url: URL!) {
  webhookSubscriptionCreate(
    topic: $topic, webhookSubscription: { callbackUrl: $url, format: JSON }
  ) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

CHECK = """
query Check {
  shop { name myshopifyDomain }
  currentAppInstallation { accessScopes { handle } }
}
"""

DOCUMENTS: dict[str, str] = {
    "PRODUCTS_PAGE": PRODUCTS_PAGE,
    "PRODUCT": PRODUCT,
    "PRODUCT_MEDIA": PRODUCT_MEDIA,
    "PRODUCTS_COUNT": PRODUCTS_COUNT,
    "BULK_PRODUCTS": BULK_PRODUCTS % "status:ACTIVE",
    "BULK_RUN": BULK_RUN,
    "BULK_CURRENT": BULK_CURRENT,
    "MEDIA_STATUS": MEDIA_STATUS,
    "FILE_CREATE": FILE_CREATE,
    "FILE_UPDATE": FILE_UPDATE,
    "FILE_DELETE": FILE_DELETE,
    "REORDER_MEDIA": REORDER_MEDIA,
    "JOB": JOB,
    "VARIANT_APPEND_MEDIA": VARIANT_APPEND_MEDIA,
    "STAGED_UPLOADS": STAGED_UPLOADS,
    "WEBHOOK_CREATE": WEBHOOK_CREATE,
    "CHECK": CHECK,
}

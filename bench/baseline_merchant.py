"""The baseline: the sequential script a merchant would write with the official libraries.

For each product, one after another: read it with the ``woocommerce``
package, create the PergAI product over plain HTTP (``requests``), start each
output's job, poll every ``poll_every`` seconds until all are finished, then
write both images back in one product update. No concurrency, no database,
no retries. The script is synchronous, so the benchmark runs it in a thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from woocommerce import API

# The two outputs the benchmark configures: a studio scene and a background removal.
SCENE = "studio"
TOOL = "remove-bg"


@dataclass(frozen=True)
class BaselineTarget:
    """Where the baseline script connects, with the keys it uses."""

    store_url: str
    consumer_key: str
    consumer_secret: str
    pergai_api: str
    pergai_key: str


class MerchantScript:
    """The merchant's script, one product at a time."""

    def __init__(self, target: BaselineTarget, poll_every: float = 3.0) -> None:
        self.store = API(
            url=target.store_url,
            consumer_key=target.consumer_key,
            consumer_secret=target.consumer_secret,
            version="wc/v3",
            timeout=60,
        )
        self.pergai_api = target.pergai_api
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {target.pergai_key}"
        self.poll_every = poll_every

    def close(self) -> None:
        self.http.close()

    def pergai(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, self.pergai_api + path, json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def process(self, product_id: int) -> int:
        """Run one product through; return how many images were written."""
        product = self.store.get(f"products/{product_id}").json()
        created = self.pergai(
            "POST",
            "/products",
            {
                "name": product["name"],
                "category": "other",
                "imagePath": product["images"][0]["src"],
            },
        )
        jobs = [
            self.pergai(
                "POST",
                "/generations",
                {"productId": created["id"], "scene": SCENE, "customPrompt": product["name"]},
            ),
            self.pergai("POST", f"/tools/{TOOL}", {"productId": created["id"]}),
        ]
        results = self.wait(job["id"] for job in jobs)

        images = [{"id": image["id"]} for image in product["images"]]
        images += [{"src": url, "name": f"pergai-{job}.png"} for job, url in results.items()]
        response = self.store.put(f"products/{product_id}", {"images": images})
        response.raise_for_status()
        return len(results)

    def wait(self, job_ids: Any) -> dict[str, str]:
        """Poll every job every ``poll_every`` seconds until all are done; return result URLs."""
        pending = set(job_ids)
        results: dict[str, str] = {}
        while pending:
            time.sleep(self.poll_every)
            for job_id in sorted(pending):
                job = self.pergai("GET", f"/generations/{job_id}")
                if job["status"] == "completed":
                    results[job_id] = job["resultImagePath"]
                elif job["status"] == "failed":
                    raise RuntimeError(f"PergAI job {job_id} failed: {job.get('errorMessage')}")
            pending -= set(results)
        return results

    def run(self, product_ids: list[int]) -> int:
        """Process ``product_ids`` in order; return the images written."""
        return sum(self.process(product_id) for product_id in product_ids)

"""Create the approvals queue on a local AWS endpoint (a moto server or LocalStack), so
the order workflow can wait for a real approval instead of its mock:

    python examples/order_approval/create_queue.py http://127.0.0.1:5000
"""

from __future__ import annotations

import asyncio
import sys

from aiobotocore.session import get_session

QUEUE = "order-approvals"


async def create(endpoint: str) -> str:
    """Create the queue (idempotent) and return its URL."""
    session = get_session()
    async with session.create_client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ) as sqs:
        response = await sqs.create_queue(QueueName=QUEUE)
        return str(response["QueueUrl"])


if __name__ == "__main__":
    print(asyncio.run(create(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")))

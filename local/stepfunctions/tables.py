"""The stack's DynamoDB tables, created in the Step Functions process's moto: the state machines' DynamoDB and
AWS SDK tasks reach that moto (moto_patches.own_services), and so do the functions' boto3 clients (their
AWS_ENDPOINT_URL). The tables live as long as the process: a restart creates them again, empty.

moto keeps expired items (it has no TTL process); on AWS an expired item also stays readable until DynamoDB
deletes it, typically within a few days ("Working with expired items and time to live"), so nothing may rely
on expiry for correctness, locally or on AWS.
"""

from collections.abc import Iterable

from local.stepfunctions.client import local_aws_client
from local.template import TableSpec


def create_tables(endpoint_url: str, region: str, tables: Iterable[TableSpec]) -> list[str]:
    """Create each table that is not there yet (with its indexes and TTL); return the names created."""
    client = local_aws_client("dynamodb", endpoint_url, region)
    existing = set(client.list_tables()["TableNames"])
    created = []
    for table in tables:
        if table.name in existing:
            continue
        design = table.design
        indexes = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in design.indexes
        ]
        client.create_table(
            TableName=table.name,
            KeySchema=_key_schema(design.partition_key, design.sort_key),
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind} for name, kind in design.attribute_types.items()
            ],
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
        if design.ttl_attribute:
            client.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": design.ttl_attribute},
            )
        created.append(table.name)
    return created


def _key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    return keys + ([{"AttributeName": sort_key, "KeyType": "RANGE"}] if sort_key else [])

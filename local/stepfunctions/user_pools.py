"""The stack's Cognito user pools and app clients, created in the Step Functions process's moto (its cognito-idp),
beside the tables. moto signs RS256 tokens whose issuer is AWS's (``https://cognito-idp.<region>.amazonaws.com/<pool
id>``) and serves each pool's keys at ``/<pool id>/.well-known/jwks.json``, so the authorizer verifies real
signatures locally, fetching the keys from this process (AWS_ENDPOINT_URL_COGNITO_IDP).

moto names a pool and a client itself: with its HASH id strategy (set for the process by the service) the names
derive from the pool's name and settings, so a restarted process gives the same ids. ``create_user_pools`` answers
which moto id stands for each id the template model made up, for the functions' environments. Users live as long
as the process, like the tables' items.
"""

from local.stepfunctions.client import local_aws_client
from local.template import StackModel

# moto's id strategies (moto.settings): ids derived from the pool's name and settings, stable across restarts.
ID_STRATEGY_ENVIRONMENT = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


def pool_name(model: StackModel, logical_id: str) -> str:
    return f"{model.stack_name}-{logical_id}"


def create_user_pools(endpoint_url: str, model: StackModel) -> dict[str, str]:
    """Create each pool and client not there yet; answer {template model's id: moto's id} for all of them."""
    client = local_aws_client("cognito-idp", endpoint_url, model.region)
    existing = {pool["Name"]: pool["Id"] for pool in client.list_user_pools(MaxResults=60)["UserPools"]}
    ids = {}
    for spec in model.user_pools.values():
        name = pool_name(model, spec.logical_id)
        if name not in existing:
            existing[name] = client.create_user_pool(PoolName=name, **spec.settings)["UserPool"]["Id"]
        ids[spec.local_id] = existing[name]
    for spec in model.user_pool_clients.values():
        pool_id = ids[model.user_pools[spec.pool].local_id]
        clients = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        found = next((found["ClientId"] for found in clients if found["ClientName"] == spec.logical_id), None)
        if found is None:
            created = client.create_user_pool_client(UserPoolId=pool_id, ClientName=spec.logical_id, **spec.settings)
            found = created["UserPoolClient"]["ClientId"]
        ids[spec.local_id] = found
    return ids

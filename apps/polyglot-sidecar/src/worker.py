"""A Python job that knows nothing of daemon-auth: Azure's own ManagedIdentityCredential.

With IDENTITY_ENDPOINT and IDENTITY_HEADER in its environment (App Service's managed
identity variables), the SDK asks the sidecar for tokens. Prints one JSON line with what
the token says; never the token.
"""
import base64
import json
import sys

from azure.identity import ManagedIdentityCredential


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


scope = sys.argv[1]
token = ManagedIdentityCredential().get_token(scope)
seen = claims(token.token)
print(json.dumps({"worker": "python azure-identity", "aud": seen["aud"], "roles": seen.get("roles", []), "expires_on": token.expires_on}))

"""The bearer-token API: signing keys and JWKS, token issue/refresh/revoke, the user's own notes."""

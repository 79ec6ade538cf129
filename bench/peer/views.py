"""The peer's endpoints: stock DRF APIViews, each answering a little JSON."""

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)


class NoneView(APIView):
    """No authentication at all: the peer's baseline."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class JwtView(APIView):
    """simplejwt as documented: the token's signature and claims, then the user's row."""

    authentication_classes = (JWTAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.id, "username": request.user.username})


class JwtStatelessView(APIView):
    """simplejwt without the database: a TokenUser made from the claims."""

    authentication_classes = (JWTStatelessUserAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.id})


class SessionView(APIView):
    """Django's session (here in the Redis cache) and the user's row, through DRF."""

    authentication_classes = (SessionAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"id": user.id, "username": user.username, "email": user.email})

from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.preference_in import PreferenceIn
from ...models.preference_public import PreferencePublic
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    round_id: UUID,
    application_id: UUID,
    *,
    body: PreferenceIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/rounds/{round_id}/preferences/{application_id}".format(
            round_id=quote(str(round_id), safe=""),
            application_id=quote(str(application_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PreferencePublic | Problem | None:
    if response.status_code == 200:
        response_200 = PreferencePublic.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PreferencePublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    round_id: UUID,
    application_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PreferenceIn,
) -> Response[PreferencePublic | Problem]:
    """Put round preference

     State a preference for one application: eager, willing, not_willing or conflict.

    Args:
        round_id (UUID):
        application_id (UUID):
        body (PreferenceIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PreferencePublic | Problem]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        application_id=application_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    round_id: UUID,
    application_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PreferenceIn,
) -> PreferencePublic | Problem | None:
    """Put round preference

     State a preference for one application: eager, willing, not_willing or conflict.

    Args:
        round_id (UUID):
        application_id (UUID):
        body (PreferenceIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PreferencePublic | Problem
    """

    return sync_detailed(
        round_id=round_id,
        application_id=application_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    round_id: UUID,
    application_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PreferenceIn,
) -> Response[PreferencePublic | Problem]:
    """Put round preference

     State a preference for one application: eager, willing, not_willing or conflict.

    Args:
        round_id (UUID):
        application_id (UUID):
        body (PreferenceIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PreferencePublic | Problem]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        application_id=application_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    round_id: UUID,
    application_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PreferenceIn,
) -> PreferencePublic | Problem | None:
    """Put round preference

     State a preference for one application: eager, willing, not_willing or conflict.

    Args:
        round_id (UUID):
        application_id (UUID):
        body (PreferenceIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PreferencePublic | Problem
    """

    return (
        await asyncio_detailed(
            round_id=round_id,
            application_id=application_id,
            client=client,
            body=body,
        )
    ).parsed

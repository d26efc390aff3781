from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.close_request import CloseRequest
from ...models.problem import Problem
from ...models.round_public import RoundPublic
from ...types import UNSET, Response, Unset


def _get_kwargs(
    round_id: UUID,
    *,
    body: CloseRequest | None | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/rounds/{round_id}/close".format(
            round_id=quote(str(round_id), safe=""),
        ),
    }

    if isinstance(body, CloseRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | RoundPublic | None:
    if response.status_code == 200:
        response_200 = RoundPublic.from_dict(response.json())

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
) -> Response[Problem | RoundPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CloseRequest | None | Unset = UNSET,
) -> Response[Problem | RoundPublic]:
    """Close round

     Close the round: rank, shortlist and set every outcome in one transaction (admin).

    Args:
        round_id (UUID):
        body (CloseRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RoundPublic]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CloseRequest | None | Unset = UNSET,
) -> Problem | RoundPublic | None:
    """Close round

     Close the round: rank, shortlist and set every outcome in one transaction (admin).

    Args:
        round_id (UUID):
        body (CloseRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RoundPublic
    """

    return sync_detailed(
        round_id=round_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CloseRequest | None | Unset = UNSET,
) -> Response[Problem | RoundPublic]:
    """Close round

     Close the round: rank, shortlist and set every outcome in one transaction (admin).

    Args:
        round_id (UUID):
        body (CloseRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RoundPublic]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CloseRequest | None | Unset = UNSET,
) -> Problem | RoundPublic | None:
    """Close round

     Close the round: rank, shortlist and set every outcome in one transaction (admin).

    Args:
        round_id (UUID):
        body (CloseRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RoundPublic
    """

    return (
        await asyncio_detailed(
            round_id=round_id,
            client=client,
            body=body,
        )
    ).parsed

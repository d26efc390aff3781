from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_affinity_public import PageAffinityPublic
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    round_id: UUID,
    *,
    application_id: None | Unset | UUID = UNSET,
    reviewer_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_application_id: None | str | Unset
    if isinstance(application_id, Unset):
        json_application_id = UNSET
    elif isinstance(application_id, UUID):
        json_application_id = str(application_id)
    else:
        json_application_id = application_id
    params["application_id"] = json_application_id

    json_reviewer_id: None | str | Unset
    if isinstance(reviewer_id, Unset):
        json_reviewer_id = UNSET
    elif isinstance(reviewer_id, UUID):
        json_reviewer_id = str(reviewer_id)
    else:
        json_reviewer_id = reviewer_id
    params["reviewer_id"] = json_reviewer_id

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/rounds/{round_id}/affinities".format(
            round_id=quote(str(round_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageAffinityPublic | Problem | None:
    if response.status_code == 200:
        response_200 = PageAffinityPublic.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
) -> Response[PageAffinityPublic | Problem]:
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
    application_id: None | Unset | UUID = UNSET,
    reviewer_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[PageAffinityPublic | Problem]:
    """Get round affinities

     Scored pairs by the round's affinity source, best first per application, with the
    evidence that matched (admin).

    Args:
        round_id (UUID):
        application_id (None | Unset | UUID):
        reviewer_id (None | Unset | UUID):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageAffinityPublic | Problem]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        application_id=application_id,
        reviewer_id=reviewer_id,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    application_id: None | Unset | UUID = UNSET,
    reviewer_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> PageAffinityPublic | Problem | None:
    """Get round affinities

     Scored pairs by the round's affinity source, best first per application, with the
    evidence that matched (admin).

    Args:
        round_id (UUID):
        application_id (None | Unset | UUID):
        reviewer_id (None | Unset | UUID):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageAffinityPublic | Problem
    """

    return sync_detailed(
        round_id=round_id,
        client=client,
        application_id=application_id,
        reviewer_id=reviewer_id,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    application_id: None | Unset | UUID = UNSET,
    reviewer_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[PageAffinityPublic | Problem]:
    """Get round affinities

     Scored pairs by the round's affinity source, best first per application, with the
    evidence that matched (admin).

    Args:
        round_id (UUID):
        application_id (None | Unset | UUID):
        reviewer_id (None | Unset | UUID):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageAffinityPublic | Problem]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        application_id=application_id,
        reviewer_id=reviewer_id,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    application_id: None | Unset | UUID = UNSET,
    reviewer_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> PageAffinityPublic | Problem | None:
    """Get round affinities

     Scored pairs by the round's affinity source, best first per application, with the
    evidence that matched (admin).

    Args:
        round_id (UUID):
        application_id (None | Unset | UUID):
        reviewer_id (None | Unset | UUID):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageAffinityPublic | Problem
    """

    return (
        await asyncio_detailed(
            round_id=round_id,
            client=client,
            application_id=application_id,
            reviewer_id=reviewer_id,
            limit=limit,
            cursor=cursor,
        )
    ).parsed

from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_event_public import PageEventPublic
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: None | str | Unset = UNSET,
    types: None | str | Unset = UNSET,
    wait: int | Unset = 0,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_after: None | str | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    json_types: None | str | Unset
    if isinstance(types, Unset):
        json_types = UNSET
    else:
        json_types = types
    params["types"] = json_types

    params["wait"] = wait

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
        "url": "/api/v1/events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageEventPublic | Problem | None:
    if response.status_code == 200:
        response_200 = PageEventPublic.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[PageEventPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    types: None | str | Unset = UNSET,
    wait: int | Unset = 0,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[PageEventPublic | Problem]:
    """List events

     Events about what the caller may read, oldest first, after `after` (an event id);
    `next_cursor` is the id to resume after. With `Accept: text/event-stream`, a server-sent
    event stream that resumes after `Last-Event-ID`.

    Args:
        after (None | str | Unset): The id of the last event seen: only later ones
        types (None | str | Unset): Comma-separated event types among: round.opened,
            round.review_started, round.closed, round.published, application.submitted,
            application.reopened, application.withdrawn, document.scanned, assignment.created,
            assignment.ended, review.submitted
        wait (int | Unset): Seconds to hold the call until an event arrives (JSON); for a stream,
            how long it stays open without events before it ends Default: 0.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEventPublic | Problem]
    """

    kwargs = _get_kwargs(
        after=after,
        types=types,
        wait=wait,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    types: None | str | Unset = UNSET,
    wait: int | Unset = 0,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> PageEventPublic | Problem | None:
    """List events

     Events about what the caller may read, oldest first, after `after` (an event id);
    `next_cursor` is the id to resume after. With `Accept: text/event-stream`, a server-sent
    event stream that resumes after `Last-Event-ID`.

    Args:
        after (None | str | Unset): The id of the last event seen: only later ones
        types (None | str | Unset): Comma-separated event types among: round.opened,
            round.review_started, round.closed, round.published, application.submitted,
            application.reopened, application.withdrawn, document.scanned, assignment.created,
            assignment.ended, review.submitted
        wait (int | Unset): Seconds to hold the call until an event arrives (JSON); for a stream,
            how long it stays open without events before it ends Default: 0.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEventPublic | Problem
    """

    return sync_detailed(
        client=client,
        after=after,
        types=types,
        wait=wait,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    types: None | str | Unset = UNSET,
    wait: int | Unset = 0,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[PageEventPublic | Problem]:
    """List events

     Events about what the caller may read, oldest first, after `after` (an event id);
    `next_cursor` is the id to resume after. With `Accept: text/event-stream`, a server-sent
    event stream that resumes after `Last-Event-ID`.

    Args:
        after (None | str | Unset): The id of the last event seen: only later ones
        types (None | str | Unset): Comma-separated event types among: round.opened,
            round.review_started, round.closed, round.published, application.submitted,
            application.reopened, application.withdrawn, document.scanned, assignment.created,
            assignment.ended, review.submitted
        wait (int | Unset): Seconds to hold the call until an event arrives (JSON); for a stream,
            how long it stays open without events before it ends Default: 0.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEventPublic | Problem]
    """

    kwargs = _get_kwargs(
        after=after,
        types=types,
        wait=wait,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    types: None | str | Unset = UNSET,
    wait: int | Unset = 0,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> PageEventPublic | Problem | None:
    """List events

     Events about what the caller may read, oldest first, after `after` (an event id);
    `next_cursor` is the id to resume after. With `Accept: text/event-stream`, a server-sent
    event stream that resumes after `Last-Event-ID`.

    Args:
        after (None | str | Unset): The id of the last event seen: only later ones
        types (None | str | Unset): Comma-separated event types among: round.opened,
            round.review_started, round.closed, round.published, application.submitted,
            application.reopened, application.withdrawn, document.scanned, assignment.created,
            assignment.ended, review.submitted
        wait (int | Unset): Seconds to hold the call until an event arrives (JSON); for a stream,
            how long it stays open without events before it ends Default: 0.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEventPublic | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            types=types,
            wait=wait,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
